"""The generated package is importable and fresh."""

from __future__ import annotations

from medchain.devtools import protos
from medchain.v1 import tensor_pb2


def test_generated_code_matches_protos() -> None:
    assert protos.check() == 0


def test_tensor_round_trip() -> None:
    tensor = tensor_pb2.Tensor(name="w", shape=[2], data=b"\x00" * 16)
    assert tensor_pb2.Tensor.FromString(tensor.SerializeToString()) == tensor
