"""The update hash a trainer records on the ledger: exact bytes, and sensitivity to every field."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from medchain.common.tensors import (
    NamedTensor,
    parameters_canonical_bytes,
    parameters_hash,
)


def _params() -> list[NamedTensor]:
    return [
        NamedTensor.from_numpy("coef", [[1.0, -2.0]]),
        NamedTensor.from_numpy("intercept", [0.5]),
    ]


def test_canonical_bytes_are_the_documented_layout() -> None:
    expected = (
        struct.pack("<I", 2)
        + struct.pack("<I", 4)
        + b"coef"
        + struct.pack("<IQQ", 2, 1, 2)
        + struct.pack("<dd", 1.0, -2.0)
        + struct.pack("<I", 9)
        + b"intercept"
        + struct.pack("<IQ", 1, 1)
        + struct.pack("<d", 0.5)
    )
    assert parameters_canonical_bytes(_params()) == expected
    assert parameters_hash(_params()) == hashlib.sha256(expected).hexdigest()


def test_empty_parameters_hash_the_zero_count() -> None:
    assert parameters_hash([]) == hashlib.sha256(struct.pack("<I", 0)).hexdigest()


@pytest.mark.parametrize(
    "changed",
    [
        [NamedTensor.from_numpy("coef", [[1.0, -2.0]]), NamedTensor.from_numpy("bias", [0.5])],
        [NamedTensor.from_numpy("coef", [1.0, -2.0]), NamedTensor.from_numpy("intercept", [0.5])],
        [NamedTensor.from_numpy("intercept", [0.5]), NamedTensor.from_numpy("coef", [[1.0, -2.0]])],
        [
            NamedTensor.from_numpy("coef", [[1.0, np.nextafter(-2.0, 0.0)]]),
            NamedTensor.from_numpy("intercept", [0.5]),
        ],
    ],
    ids=["name", "shape", "order", "one-ulp"],
)
def test_any_change_changes_the_hash(changed: list[NamedTensor]) -> None:
    assert parameters_hash(changed) != parameters_hash(_params())


def test_duplicate_names_are_refused() -> None:
    tensor = NamedTensor.from_numpy("w", [1.0])
    with pytest.raises(ValueError, match="duplicate"):
        parameters_hash([tensor, tensor])
