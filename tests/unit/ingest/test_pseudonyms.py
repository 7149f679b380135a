"""Keyed pseudonyms: deterministic, 64 hex, secret-bound, distinct for distinct identifiers."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from medchain.ingest.pseudonyms import Pseudonymizer, is_pseudonym

systems = st.text(min_size=1, max_size=40).filter(lambda s: "|" not in s)
values = st.text(min_size=1, max_size=40)
secrets = st.text(min_size=16, max_size=40)


def test_matches_hmac_sha256_of_system_bar_value() -> None:
    pseudonymize = Pseudonymizer(SecretStr("a-secret-of-h1-123"))

    expected = hmac.new(b"a-secret-of-h1-123", b"urn:oid:1.2|12345", hashlib.sha256).hexdigest()

    assert pseudonymize("urn:oid:1.2", "12345") == expected


@given(secret=secrets, system=systems, value=values)
def test_is_64_hex_and_deterministic(secret: str, system: str, value: str) -> None:
    first = Pseudonymizer(SecretStr(secret))(system, value)

    assert is_pseudonym(first)
    assert Pseudonymizer(SecretStr(secret))(system, value) == first


@given(secret=secrets, a=st.tuples(systems, values), b=st.tuples(systems, values))
def test_distinct_identifiers_get_distinct_pseudonyms(
    secret: str, a: tuple[str, str], b: tuple[str, str]
) -> None:
    pseudonymize = Pseudonymizer(SecretStr(secret))

    assert (pseudonymize(*a) == pseudonymize(*b)) == (a == b)


@given(one=secrets, other=secrets, system=systems, value=values)
def test_another_hospitals_secret_gives_another_pseudonym(
    one: str, other: str, system: str, value: str
) -> None:
    same = Pseudonymizer(SecretStr(one))(system, value) == Pseudonymizer(SecretStr(other))(
        system, value
    )

    assert same == (one == other)


def test_a_system_with_a_bar_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\|"):
        Pseudonymizer(SecretStr("a-secret-of-h1-123"))("a|b", "c")
