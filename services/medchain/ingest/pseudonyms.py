"""Keyed pseudonyms: HMAC-SHA256 of a patient identifier `system|value`, keyed by the secret."""

from __future__ import annotations

import hashlib
import hmac
import re

from pydantic import SecretStr

PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")


class Pseudonymizer:
    """Patient identifiers to 64-hex pseudonyms; only the hospital's secret links them back."""

    def __init__(self, secret: SecretStr) -> None:
        self._key = secret.get_secret_value().encode("utf-8")

    def __call__(self, system: str, value: str) -> str:
        """The pseudonym of `system|value`; the same identifier always gives the same one.
        A system containing `|` would make two identifiers one message, so it is refused."""
        if "|" in system:
            raise ValueError(f"identifier system {system!r} contains '|'")
        message = f"{system}|{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def is_pseudonym(text: str) -> bool:
    """Whether `text` has the shape of a pseudonym (64 lowercase hex characters)."""
    return PSEUDONYM.match(text) is not None
