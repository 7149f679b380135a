"""The one place where protobuf messages meet domain types, for every MedChain service."""

from __future__ import annotations

from datetime import date

from medchain.common.tensors import NamedTensor
from medchain.ingest.features import (
    CodeRef,
    ConditionFlag,
    FeatureBatch,
    FeatureSpec,
    LabelDefinition,
    ObservationFeature,
)
from medchain.v1 import ingest_pb2, tensor_pb2

# --- tensors ---------------------------------------------------------------------------------


def tensor_to_proto(tensor: NamedTensor) -> tensor_pb2.Tensor:
    return tensor_pb2.Tensor(
        name=tensor.name, shape=list(tensor.shape), data=tensor.canonical_bytes()
    )


def tensor_from_proto(message: tensor_pb2.Tensor) -> NamedTensor:
    return NamedTensor.from_bytes(message.name, list(message.shape), bytes(message.data))


def tensor_set_to_proto(
    tensors: tuple[NamedTensor, ...] | list[NamedTensor],
) -> tensor_pb2.TensorSet:
    return tensor_pb2.TensorSet(tensors=[tensor_to_proto(t) for t in tensors])


def tensor_set_from_proto(message: tensor_pb2.TensorSet) -> list[NamedTensor]:
    return [tensor_from_proto(t) for t in message.tensors]


# --- ingest: feature specs and feature batches --------------------------------------------------


def feature_spec_to_proto(spec: FeatureSpec) -> ingest_pb2.FeatureSpec:
    label = ingest_pb2.LabelDefinition(name=spec.label.name, source=spec.label.source)
    if spec.label.threshold is not None:
        label.threshold = spec.label.threshold
    return ingest_pb2.FeatureSpec(
        observations=[
            ingest_pb2.ObservationFeature(name=f.name, loinc=f.loinc) for f in spec.observations
        ],
        conditions=[
            ingest_pb2.ConditionFlag(
                name=c.name,
                codes=[ingest_pb2.Code(system=r.system, code=r.code) for r in c.codes],
            )
            for c in spec.conditions
        ],
        include_age=spec.include_age,
        include_sex=spec.include_sex,
        label=label,
        reference_date=spec.reference_date.isoformat() if spec.reference_date else "",
    )


def feature_spec_from_proto(message: ingest_pb2.FeatureSpec) -> FeatureSpec:
    """The domain spec; a malformed reference date raises ValueError."""
    label = message.label
    return FeatureSpec(
        observations=tuple(ObservationFeature(f.name, f.loinc) for f in message.observations),
        conditions=tuple(
            ConditionFlag(c.name, tuple(CodeRef(r.system, r.code) for r in c.codes))
            for c in message.conditions
        ),
        include_age=message.include_age,
        include_sex=message.include_sex,
        label=LabelDefinition(
            label.name, label.source, label.threshold if label.HasField("threshold") else None
        ),
        reference_date=date.fromisoformat(message.reference_date)
        if message.reference_date
        else None,
    )


def feature_batch_to_proto(batch: FeatureBatch) -> ingest_pb2.FeatureBatch:
    return ingest_pb2.FeatureBatch(
        pseudonyms=list(batch.pseudonyms),
        features=tensor_set_to_proto(batch.features),
        label=tensor_to_proto(batch.label),
    )


def feature_batch_from_proto(message: ingest_pb2.FeatureBatch) -> FeatureBatch:
    return FeatureBatch(
        pseudonyms=tuple(message.pseudonyms),
        features=tuple(tensor_set_from_proto(message.features)),
        label=tensor_from_proto(message.label),
    )


# --- model parameters as stored bytes ------------------------------------------------------------


def parameters_to_bytes(params: list[NamedTensor] | tuple[NamedTensor, ...]) -> bytes:
    """Parameters as serialized `TensorSet` bytes (for files and round logs; never pickle)."""
    return bytes(tensor_set_to_proto(params).SerializeToString())


def parameters_from_bytes(data: bytes) -> list[NamedTensor]:
    """Parameters back from serialized `TensorSet` bytes."""
    return tensor_set_from_proto(tensor_pb2.TensorSet.FromString(data))
