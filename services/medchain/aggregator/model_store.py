"""Content-addressed store of models and updates: a file per parameters hash, checked on read."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from google.protobuf.message import DecodeError

from medchain.aggregator.errors import ModelNotFoundError, TamperedArtifactError
from medchain.common.serde import parameters_from_bytes, parameters_to_bytes
from medchain.common.tensors import Parameters, parameters_hash

_HEX = frozenset("0123456789abcdef")


def decode_artifact(digest: str, data: bytes) -> Parameters:
    """Parameters from stored bytes; TamperedArtifactError when they are not parameters at all."""
    try:
        return parameters_from_bytes(data)
    except (DecodeError, ValueError) as exc:
        raise TamperedArtifactError(
            f"stored artifact {digest} is not a parameter set: {exc}"
        ) from exc


class ModelStore:
    """`<dir>/<hash>.tensors`: serialized TensorSet bytes whose parameters hash to `<hash>`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or not set(digest) <= _HEX:
            raise ModelNotFoundError(f"{digest!r} is not a SHA-256 hex digest")
        return self.directory / f"{digest}.tensors"

    def put(self, params: Parameters) -> str:
        """Store parameters (atomically, once) and return their hash."""
        digest = parameters_hash(params)
        target = self.path(digest)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".partial")
            with os.fdopen(fd, "wb") as handle:
                handle.write(parameters_to_bytes(params))
            os.replace(tmp, target)
        return digest

    def raw(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            raise ModelNotFoundError(f"no model or update {digest} in the store") from None

    def get(self, digest: str) -> Parameters:
        """The parameters named `digest`; TamperedArtifactError if the file no longer matches."""
        params = decode_artifact(digest, self.raw(digest))
        actual = parameters_hash(params)
        if actual != digest:
            raise TamperedArtifactError(f"stored artifact {digest} now hashes to {actual}")
        return params

    def has(self, digest: str) -> bool:
        return self.path(digest).exists()
