"""Canonical JSON and hashing: same object, same bytes and digest, whatever the key order."""

from __future__ import annotations

import hashlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medchain.common.hashing import canonical_json, digest, sha256_hex

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def test_canonical_bytes_are_sorted_and_compact() -> None:
    assert canonical_json({"b": 1, "a": [1, 2, {"d": None, "c": True}]}) == (
        b'{"a":[1,2,{"c":true,"d":null}],"b":1}'
    )


def test_known_digest() -> None:
    expected = hashlib.sha256(b'{"a":1,"b":"x"}').hexdigest()
    assert digest({"b": "x", "a": 1}) == expected
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_unicode_kept_as_utf8() -> None:
    assert canonical_json({"name": "Zoë"}) == '{"name":"Zoë"}'.encode()


def test_tuples_hash_like_lists() -> None:
    assert digest({"x": (1, 2)}) == digest({"x": [1, 2]})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="NaN or infinity"):
        canonical_json({"x": bad})


@pytest.mark.parametrize("bad", [{1: "int key"}, {"b": b"bytes"}, {"s": {1, 2}}])
def test_values_json_cannot_carry_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        canonical_json(bad)


@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_digest_independent_of_key_order(value: dict[str, object]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert digest(value) == digest(reordered)
    assert canonical_json(value) == canonical_json(reordered)
