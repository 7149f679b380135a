"""The one place where protobuf messages meet domain types, for every MedChain service."""

from __future__ import annotations

from datetime import UTC, date, datetime

from medchain.common.tensors import NamedTensor
from medchain.consent.queries import FilterAnswer, FilterQuery
from medchain.ingest.features import (
    CodeRef,
    ConditionFlag,
    FeatureBatch,
    FeatureSpec,
    LabelDefinition,
    ObservationFeature,
)
from medchain.ingest.terminology import LOINC
from medchain.v1 import consent_pb2, ingest_pb2, tensor_pb2

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
            ingest_pb2.ObservationFeature(
                name=f.name,
                loinc=f.loinc,
                system="" if f.system == LOINC else f.system,
                unit="" if f.system == LOINC else f.unit,
            )
            for f in spec.observations
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
        observations=tuple(
            ObservationFeature(f.name, f.loinc, f.system or LOINC, f.unit if f.system else "")
            for f in message.observations
        ),
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


# --- consent: which patients a study may use ------------------------------------------------


def filter_query_from_proto(message: consent_pb2.FilterPermittedRequest) -> FilterQuery:
    return FilterQuery(
        study=message.study,
        pseudonyms=list(message.pseudonyms),
        from_ledger=message.from_ledger,
        min_block_height=message.min_block_height,
    )


def filter_query_to_proto(query: FilterQuery) -> consent_pb2.FilterPermittedRequest:
    return consent_pb2.FilterPermittedRequest(
        study=query.study,
        pseudonyms=query.pseudonyms,
        from_ledger=query.from_ledger,
        min_block_height=query.min_block_height,
    )


_CONSENT_SOURCES = {
    "cache": consent_pb2.CONSENT_SOURCE_CACHE,
    "ledger": consent_pb2.CONSENT_SOURCE_LEDGER,
}


def filter_answer_to_proto(answer: FilterAnswer) -> consent_pb2.FilterPermittedResponse:
    return consent_pb2.FilterPermittedResponse(
        study=answer.study,
        permitted=answer.permitted,
        block_height=answer.block_height,
        as_of=answer.as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source=_CONSENT_SOURCES[answer.source],
    )


def filter_answer_from_proto(message: consent_pb2.FilterPermittedResponse) -> FilterAnswer:
    """The domain answer; a malformed `as_of` raises ValueError."""
    sources = {value: name for name, value in _CONSENT_SOURCES.items()}
    return FilterAnswer(
        study=message.study,
        permitted=list(message.permitted),
        block_height=message.block_height,
        as_of=datetime.fromisoformat(message.as_of),
        source=sources.get(message.source, "unspecified"),
    )
