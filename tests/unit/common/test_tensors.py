"""Named tensors: float64, read-only, canonical little-endian bytes that round-trip exactly."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medchain.common.tensors import NamedTensor, tensors_by_name

arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
    elements=st.floats(allow_nan=False),
)


def test_canonical_bytes_are_little_endian_float64_row_major() -> None:
    tensor = NamedTensor.from_numpy("w", [[1.0, 2.0], [3.0, -0.5]])

    assert tensor.canonical_bytes() == struct.pack("<4d", 1.0, 2.0, 3.0, -0.5)
    assert tensor.shape == (2, 2)


@given(arrays)
def test_bytes_round_trip_exactly(array: np.ndarray) -> None:
    tensor = NamedTensor.from_numpy("x", array)

    back = NamedTensor.from_bytes("x", tensor.shape, tensor.canonical_bytes())

    assert np.array_equal(back.to_numpy(), array)
    assert back.digest() == tensor.digest()


def test_values_are_read_only_and_copies_are_writable() -> None:
    tensor = NamedTensor.from_numpy("x", np.zeros(3))

    with pytest.raises(ValueError, match="read-only"):
        tensor.values[0] = 1.0
    copy = tensor.to_numpy()
    copy[0] = 1.0
    assert tensor.values[0] == 0.0


def test_wrong_lengths_names_and_dtypes_are_refused() -> None:
    with pytest.raises(ValueError, match="needs 16 bytes"):
        NamedTensor.from_bytes("x", [2], b"\x00" * 8)
    with pytest.raises(ValueError, match="name"):
        NamedTensor.from_numpy("", [1.0])
    with pytest.raises(TypeError):
        NamedTensor("x", np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="duplicate"):
        tensors_by_name([NamedTensor.from_numpy("a", [1.0]), NamedTensor.from_numpy("a", [2.0])])


def test_digest_depends_on_name_and_shape() -> None:
    flat = NamedTensor.from_numpy("a", [1.0, 2.0])

    assert flat.digest() != NamedTensor.from_numpy("b", [1.0, 2.0]).digest()
    assert flat.digest() != NamedTensor.from_numpy("a", [[1.0, 2.0]]).digest()
