"""Canonical JSON and SHA-256: the same object always gives the same bytes and the same digest."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

JSONValue = Any


def _normalise(value: Any) -> JSONValue:
    """Turn tuples into lists and reject what JSON cannot carry exactly (NaN, infinities, bytes)."""
    if isinstance(value, Mapping):
        out: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON needs string keys, got {type(key).__name__}")
            out[key] = _normalise(item)
        return out
    if isinstance(value, str | bytes | bytearray) and not isinstance(value, str):
        raise TypeError("canonical JSON cannot carry bytes; encode them (hex or base64) first")
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_normalise(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("canonical JSON cannot carry NaN or infinity")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"canonical JSON cannot carry {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """Serialise to canonical JSON: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(
        _normalise(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """Hex SHA-256 of the canonical JSON of a value."""
    return sha256_hex(canonical_json(value))
