"""The durable outbox on SQLite and PostgreSQL: batching, order per key, outages, doubts,
restarts; every accepted change is committed exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from medchain.common.db import transaction
from medchain.consent.cache import PermissionCache
from medchain.consent.service import ConsentService
from medchain.consent.settings import ConsentSettings
from medchain.ledger import LedgerUnavailable
from tests.unit.consent.conftest import make_service, wait_until
from tests.unit.consent.examples import MRN, compact
from tests.unit.consent.fake_ledger import FakeLedger


def body(*items: dict[str, object]) -> bytes:
    return json.dumps({"consents": list(items)}).encode()


def states(service: ConsentService, submission_id: str) -> list[str]:
    return [c.state for c in service.submission(submission_id).changes]


def committed(service: ConsentService, submission_id: str) -> bool:
    return set(states(service, submission_id)) == {"committed"}


def test_pending_changes_are_batched_fifo_up_to_the_batch_size(
    settings: ConsentSettings, ledger: FakeLedger
) -> None:
    service = make_service(settings, ledger)
    accepted = [
        service.accept_compact(body(*(compact(f"{r}-{i}") for i in range(300))), "it")
        for r in range(5)
    ]
    service.start()
    try:
        wait_until(lambda: all(committed(service, a.submission_id) for a in accepted))
    finally:
        service.stop()
    assert sorted(ledger.batches) == [500, 1000]  # two jobs run side by side


def test_changes_of_one_key_are_recorded_in_order_never_in_one_batch(
    service: ConsentService, ledger: FakeLedger
) -> None:
    items = [compact("7", decision=d) for d in ("permit", "deny", "permit", "deny")]
    accepted = service.accept_compact(body(*items), "it")

    wait_until(lambda: committed(service, accepted.submission_id))

    pseudonym = service.resolve_patient(f"{MRN}|7")
    history = ledger.history("h1MSP", pseudonym, "diabetes-2026")
    assert [(h.consent.decision, h.consent.version) for h in history if h.consent] == [
        ("permit", 1),
        ("deny", 2),
        ("permit", 3),
        ("deny", 4),
    ]
    assert ledger.batches == [1, 1, 1, 1]


def test_an_outage_delays_changes_and_never_loses_or_doubles_them(
    service: ConsentService, ledger: FakeLedger
) -> None:
    for _ in range(5):
        ledger.fail_before_order.append(LedgerUnavailable("peer down", phase="endorse"))
    accepted = service.accept_compact(body(*(compact(str(i)) for i in range(20))), "it")

    wait_until(lambda: committed(service, accepted.submission_id))

    assert ledger.write_calls == 6
    assert sum(ledger.batches) == 20
    assert service.outbox.totals["failures"] == 5


def test_a_lost_commit_status_is_settled_without_a_second_write(
    service: ConsentService, ledger: FakeLedger
) -> None:
    ledger.lose_commit_status = 1
    accepted = service.accept_compact(body(compact("1"), compact("2")), "it")

    wait_until(lambda: committed(service, accepted.submission_id))

    assert ledger.batches == [2]
    tx_ids = {c.tx_id for c in service.submission(accepted.submission_id).changes}
    assert tx_ids == set(ledger.transactions)


def test_a_rejected_change_is_recorded_with_its_reason(
    settings: ConsentSettings, tmp_path: Path
) -> None:
    ledger = FakeLedger(caller_msp="h2MSP")  # a service of h1 signing as h2: never allowed
    service = make_service(settings, ledger)
    service.start()
    try:
        accepted = service.accept_compact(body(compact("1")), "it")
        wait_until(lambda: service.submission(accepted.submission_id).final)
        change = service.submission(accepted.submission_id).changes[0]
    finally:
        service.stop()
    assert change.state == "rejected"
    assert change.reason_code == "PERMISSION_DENIED"
    assert ledger.state == {}


def _crash_while_submitting(service: ConsentService, submission_id: str) -> None:
    """What a process killed mid-submission leaves: its changes marked submitting."""
    seqs = [c.seq for c in service.submission(submission_id).changes]
    with transaction(service.sessions) as session:
        service.store.mark_submitting(session, seqs, service.clock())


def test_after_a_crash_a_transaction_that_committed_is_found_not_repeated(
    settings: ConsentSettings, ledger: FakeLedger
) -> None:
    crashed = make_service(settings, ledger)
    accepted = crashed.accept_compact(body(compact("1")), "it")
    _crash_while_submitting(crashed, accepted.submission_id)
    change = crashed.submission(accepted.submission_id).changes[0]
    ledger.record_batch([change.ledger_input()])  # the crashed process's transaction committed

    restarted = make_service(settings, ledger)
    restarted.start()
    try:
        wait_until(lambda: committed(restarted, accepted.submission_id))
    finally:
        restarted.stop()
    assert ledger.writes_of("h1MSP", change.pseudonym, change.study) == 1


def test_after_a_crash_a_transaction_that_never_reached_the_ledger_is_submitted(
    settings: ConsentSettings, ledger: FakeLedger
) -> None:
    crashed = make_service(settings, ledger)
    accepted = crashed.accept_compact(body(compact("1"), compact("2")), "it")
    _crash_while_submitting(crashed, accepted.submission_id)

    restarted = make_service(settings, ledger)
    restarted.start()
    try:
        wait_until(lambda: committed(restarted, accepted.submission_id))
    finally:
        restarted.stop()
    assert ledger.batches == [2]


def test_pending_changes_survive_a_restart(settings: ConsentSettings, ledger: FakeLedger) -> None:
    first = make_service(settings, ledger)
    accepted = first.accept_compact(body(compact("1")), "it")
    first.outbox.stop()  # never started: the change is only in the database

    second = make_service(settings, ledger)
    second.start()
    try:
        wait_until(lambda: committed(second, accepted.submission_id))
    finally:
        second.stop()
    assert ledger.batches == [1]


def test_the_outbox_writes_through_to_the_permission_cache(
    service: ConsentService, ledger: FakeLedger
) -> None:
    ledger.break_events = True  # the follower is away: only the write-through can update the cache
    accepted = service.accept_compact(body(compact("1")), "it")
    wait_until(lambda: committed(service, accepted.submission_id))
    pseudonym = service.submission(accepted.submission_id).changes[0].pseudonym
    assert service.cache.filter("diabetes-2026", [pseudonym], ledger.now) == [pseudonym]


def test_the_follower_takes_the_outboxs_own_commits_from_its_write_through(
    service: ConsentService, ledger: FakeLedger
) -> None:
    accepted = service.accept_compact(body(*(compact(str(i)) for i in range(10))), "it")
    wait_until(lambda: committed(service, accepted.submission_id))
    wait_until(lambda: service.follower.events_applied == 1)

    pseudonym = "e" * 64
    foreign = service.submission(accepted.submission_id).changes[0].ledger_input()
    ledger.record_batch([foreign.model_copy(update={"pseudonym": pseudonym})])  # not ours
    wait_until(lambda: service.follower.events_applied == 2)

    assert ledger.transaction_reads == 1  # only the transaction the outbox did not submit
    assert service.cache.get(pseudonym, "diabetes-2026") is not None
    assert service.cache.height == ledger.block
    reloaded = PermissionCache(service.store, service.sessions)
    reloaded.load()
    assert len(reloaded) == 11  # the follower persisted the outbox's ten and the foreign one


def test_the_ledger_gets_the_validated_period(service: ConsentService, ledger: FakeLedger) -> None:
    accepted = service.accept_compact(body(compact("1", start="2024", end="2025-06")), "it")
    wait_until(lambda: committed(service, accepted.submission_id))
    (stored,) = ledger.state.values()
    assert stored.valid_from.isoformat() == "2024-01-01T00:00:00+00:00"
    assert stored.valid_until is not None
    assert stored.valid_until.isoformat() == "2025-07-01T00:00:00+00:00"  # June included
