"""The event follower: consent events (from any writer of this org) reach the cache, resumably."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import make_engine, make_session_factory
from medchain.consent import migrations
from medchain.consent.backoff import Backoff
from medchain.consent.cache import PermissionCache
from medchain.consent.follower import EventFollower
from medchain.consent.store import ConsentStore
from medchain.ledger import ConsentInput
from tests.unit.consent.conftest import wait_until
from tests.unit.consent.fake_ledger import NOW, FakeLedger


def _consent(org: str = "h1MSP", decision: str = "permit") -> ConsentInput:
    return ConsentInput(
        pseudonym=secrets.token_hex(32),
        org=org,
        study="s1",
        decision=decision,
        valid_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        valid_until=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        document_hash=secrets.token_hex(32),
    )


def _sessions(database_url: str) -> sessionmaker[Session]:
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    return make_session_factory(engine)


def _follow(
    ledger: FakeLedger, sessions: sessionmaker[Session]
) -> tuple[EventFollower, PermissionCache]:
    cache = PermissionCache(ConsentStore(), sessions)
    follower = EventFollower(cache, ledger, "h1MSP", Backoff(0.01, 0.05))
    follower.start(cache.load())
    return follower, cache


def test_events_of_this_org_fill_the_cache_with_the_ledgers_periods(database_url: str) -> None:
    ledger = FakeLedger()
    ours = _consent()
    ledger.record_batch([ours])  # written by someone else with this org's identity
    ledger.caller_msp = "h2MSP"
    ledger.record_batch([_consent(org="h2MSP")])
    follower, cache = _follow(ledger, _sessions(database_url))
    try:
        wait_until(lambda: follower.events_applied == 2)
    finally:
        follower.stop()

    entry = cache.get(ours.pseudonym, "s1")
    assert entry is not None
    assert entry.valid_until == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert len(cache) == 1  # the other org's consent is not ours to filter
    assert cache.filter("s1", [ours.pseudonym], NOW) == [ours.pseudonym]
    assert cache.height == ledger.block


def test_a_restart_resumes_after_the_saved_checkpoint(database_url: str) -> None:
    ledger = FakeLedger()
    sessions = _sessions(database_url)
    ledger.record_batch([_consent()])
    follower, _ = _follow(ledger, sessions)
    wait_until(lambda: follower.events_applied == 1)
    follower.stop()

    ledger.record_batch([_consent()])
    again, cache = _follow(ledger, sessions)
    try:
        wait_until(lambda: again.events_applied == 1)
    finally:
        again.stop()
    assert again.events_applied == 1  # only the new event
    assert len(cache) == 2


def test_a_broken_stream_reconnects_and_misses_nothing(database_url: str) -> None:
    ledger = FakeLedger()
    follower, cache = _follow(ledger, _sessions(database_url))
    try:
        ledger.break_events = True
        wait_until(lambda: not ledger.break_events)
        revoked = _consent()
        ledger.record_batch([revoked])
        ledger.revoke("h1MSP", revoked.pseudonym, "s1", "0" * 64)
        wait_until(lambda: follower.events_applied == 2)
    finally:
        follower.stop()
    entry = cache.get(revoked.pseudonym, "s1")
    assert entry is not None
    assert (entry.status, entry.version) == ("revoked", 2)
    assert cache.filter("s1", [revoked.pseudonym], NOW) == []
