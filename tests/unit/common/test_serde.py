"""Protobuf <-> domain conversion: tensors, feature specs and feature batches round-trip."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from medchain.common import serde
from medchain.common.tensors import NamedTensor
from medchain.ingest.features import FeatureBatch, LabelDefinition
from medchain.ingest.settings import default_feature_spec
from medchain.v1 import ingest_pb2


def test_tensor_round_trip_keeps_name_shape_and_bits() -> None:
    tensor = NamedTensor.from_numpy("layer.weight", np.arange(6.0).reshape(2, 3) / 7)

    message = serde.tensor_to_proto(tensor)
    back = serde.tensor_from_proto(message)

    assert list(message.shape) == [2, 3]
    assert len(message.data) == 48
    assert back.name == tensor.name
    assert back.canonical_bytes() == tensor.canonical_bytes()


def test_tensor_set_keeps_order() -> None:
    tensors = [NamedTensor.from_numpy(n, [float(i)]) for i, n in enumerate("cab")]

    back = serde.tensor_set_from_proto(serde.tensor_set_to_proto(tensors))

    assert [t.name for t in back] == ["c", "a", "b"]


@pytest.mark.parametrize("threshold", [None, 6.5, 0.0])
def test_feature_spec_round_trip(threshold: float | None) -> None:
    base = default_feature_spec(date(2026, 1, 1))
    spec = type(base)(
        base.observations,
        base.conditions,
        base.include_age,
        base.include_sex,
        LabelDefinition("label", "hba1c", threshold),
        base.reference_date,
    )

    assert serde.feature_spec_from_proto(serde.feature_spec_to_proto(spec)) == spec


def test_a_malformed_reference_date_is_a_value_error() -> None:
    message = serde.feature_spec_to_proto(default_feature_spec())
    message.reference_date = "01/02/2026"

    with pytest.raises(ValueError, match="Invalid isoformat"):
        serde.feature_spec_from_proto(message)


def test_feature_batch_round_trip() -> None:
    batch = FeatureBatch(
        pseudonyms=("a" * 64, "b" * 64),
        features=(NamedTensor.from_numpy("age", [40.0, np.nan]),),
        label=NamedTensor.from_numpy("y", [1.0, 0.0]),
    )

    message = serde.feature_batch_to_proto(batch)
    back = serde.feature_batch_from_proto(
        ingest_pb2.FeatureBatch.FromString(message.SerializeToString())
    )

    assert back.pseudonyms == batch.pseudonyms
    assert back.features[0].canonical_bytes() == batch.features[0].canonical_bytes()
    assert back.label.canonical_bytes() == batch.label.canonical_bytes()
