"""Helpers shared by the integration tests that talk to the ledger."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from medchain.ledger import ConsentInput, EndorseError

T = TypeVar("T")
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def until_endorsable(call: Callable[[], T], timeout: float = 30.0) -> T:
    """Retry while the Gateway's discovery has not yet learnt the other orgs' peers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except EndorseError as exc:
            if "no combination of peers" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def consent(
    org: str = "h1MSP", study: str = "ledger-it", pseudonym: str | None = None
) -> ConsentInput:
    """A valid, open-ended permit for a (by default new, random) patient pseudonym."""
    return ConsentInput(
        pseudonym=pseudonym or secrets.token_hex(32),
        org=org,
        study=study,
        decision="permit",
        valid_from=EPOCH,
        valid_until=None,
        document_hash=secrets.token_hex(32),
    )
