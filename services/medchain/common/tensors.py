"""Named float tensors: the domain type for model parameters and feature batches, and its bytes.

Values are float64, row-major; the canonical bytes are little-endian IEEE-754, the same layout the
protobuf `Tensor.data` field carries, so hashes computed over them agree everywhere. Never pickled.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medchain.common.hashing import sha256_hex

FloatArray = npt.NDArray[np.float64]
_LITTLE_ENDIAN_F64 = np.dtype("<f8")


@dataclass(frozen=True)
class NamedTensor:
    """A named float64 array with an explicit shape; the values are never mutated after creation."""

    name: str
    values: FloatArray

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a tensor needs a name")
        if self.values.dtype != np.float64:
            raise TypeError(f"tensor {self.name!r} must be float64, got {self.values.dtype}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.values.shape)

    @classmethod
    def from_numpy(cls, name: str, array: npt.ArrayLike) -> NamedTensor:
        """Copy any array-like into a read-only float64 tensor."""
        values = np.array(array, dtype=np.float64, copy=True)
        values.setflags(write=False)
        return cls(name, values)

    @classmethod
    def from_bytes(cls, name: str, shape: Sequence[int], data: bytes) -> NamedTensor:
        """Rebuild a tensor from its canonical bytes; the length must match the shape exactly."""
        if any(n < 0 for n in shape):
            raise ValueError(f"tensor {name!r} has a negative dimension in {list(shape)}")
        expected = 8 * math.prod(shape)
        if len(data) != expected:
            raise ValueError(
                f"tensor {name!r} of shape {list(shape)} needs {expected} bytes, got {len(data)}"
            )
        values = np.frombuffer(data, dtype=_LITTLE_ENDIAN_F64).astype(np.float64)
        values = values.reshape(tuple(shape))
        values.setflags(write=False)
        return cls(name, values)

    def to_numpy(self) -> FloatArray:
        """A writable copy of the values."""
        return np.array(self.values, dtype=np.float64, copy=True)

    def canonical_bytes(self) -> bytes:
        """Little-endian float64 values in row-major order."""
        return np.ascontiguousarray(self.values, dtype=_LITTLE_ENDIAN_F64).tobytes(order="C")

    def digest(self) -> str:
        """SHA-256 over name, shape and canonical bytes, so equal digests mean equal tensors."""
        header = f"{self.name}|{','.join(str(n) for n in self.shape)}|".encode()
        return sha256_hex(header + self.canonical_bytes())


def tensors_by_name(tensors: Iterable[NamedTensor]) -> dict[str, NamedTensor]:
    """Index tensors by name, refusing duplicates (they would silently shadow each other)."""
    out: dict[str, NamedTensor] = {}
    for tensor in tensors:
        if tensor.name in out:
            raise ValueError(f"duplicate tensor name {tensor.name!r}")
        out[tensor.name] = tensor
    return out


Parameters = list[NamedTensor]
"""A model's parameters: named tensors in a fixed order (the order is part of the model)."""


def parameters_canonical_bytes(params: Sequence[NamedTensor]) -> bytes:
    """Unambiguous bytes of ordered parameters: count, then per tensor name, shape and values.

    Every length is a little-endian prefix (u32 count, u32 name length, u32 rank, u64 dimensions),
    so no choice of names or shapes can make two different parameter lists share bytes.
    """
    tensors_by_name(params)  # duplicate names would make the order ambiguous to a reader
    parts = [struct.pack("<I", len(params))]
    for tensor in params:
        name = tensor.name.encode("utf-8")
        parts.append(struct.pack("<I", len(name)) + name)
        parts.append(struct.pack(f"<I{len(tensor.shape)}Q", len(tensor.shape), *tensor.shape))
        parts.append(tensor.canonical_bytes())
    return b"".join(parts)


def parameters_hash(params: Sequence[NamedTensor]) -> str:
    """Hex SHA-256 of the canonical bytes: the update hash a trainer records on the ledger."""
    return sha256_hex(parameters_canonical_bytes(params))
