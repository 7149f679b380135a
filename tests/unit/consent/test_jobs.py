"""Outbox jobs against a fake ledger: batches, rejections, outages, and settling doubts."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace

from medchain.consent.changes import Change, Key
from medchain.consent.jobs import settle, submit_records, submit_revoke
from medchain.ledger import CommitError, EndorseError, LedgerTimeout, LedgerUnavailable, SubmitError
from tests.unit.consent.fake_ledger import FakeLedger

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def change(
    seq: int,
    study: str = "s1",
    *,
    pseudonym: str | None = None,
    action: str = "record",
    until: dt.datetime | None = None,
    org: str = "h1MSP",
    tx: str | None = None,
) -> Change:
    return Change(
        seq=seq,
        change_id=f"c{seq}",
        submission_id="sub",
        position=seq,
        org=org,
        pseudonym=pseudonym or secrets.token_hex(32),
        study=study,
        action=action,  # type: ignore[arg-type]
        decision="permit" if action == "record" else None,
        valid_from=START if action == "record" else None,
        valid_until=until,
        document_hash=secrets.token_hex(32),
        state="submitting",
        last_tx_id=tx,
    )


def nobody(_tx: str, _key: Key) -> bool:
    return False


def test_a_batch_commits_every_change_with_its_version() -> None:
    ledger = FakeLedger()
    changes = [change(i) for i in range(3)]

    outcome = submit_records(ledger, changes)

    assert [c.seq for c in outcome.committed] == [0, 1, 2]
    assert {c.version for c in outcome.committed} == {1}
    assert len({c.tx_id for c in outcome.committed}) == 1
    assert len(outcome.permissions) == 3
    assert outcome.failure is None
    assert ledger.batches == [3]


def test_an_item_the_chaincode_refuses_is_rejected_and_the_rest_recorded() -> None:
    ledger = FakeLedger()
    bad = change(1, until=START)  # validUntil == validFrom
    outcome = submit_records(ledger, [change(0), bad, change(2)])

    assert [(r.seq, r.code) for r in outcome.rejected] == [(1, "INVALID_ARGUMENT")]
    assert sorted(c.seq for c in outcome.committed) == [0, 2]
    assert ledger.batches == [2]


def test_another_orgs_consents_are_refused_as_a_whole() -> None:
    ledger = FakeLedger(caller_msp="h2MSP")
    outcome = submit_records(ledger, [change(0), change(1)])

    assert [(r.seq, r.code) for r in outcome.rejected] == [
        (0, "PERMISSION_DENIED"),
        (1, "PERMISSION_DENIED"),
    ]
    assert outcome.committed == []
    assert ledger.state == {}


def test_failures_before_the_orderer_accepted_go_back_to_the_queue() -> None:
    for error in (
        LedgerUnavailable("down", phase="endorse"),
        EndorseError("no combination of peers", phase="endorse"),
        LedgerUnavailable("orderers down", phase="submit", tx_id="t"),
        SubmitError("rejected", phase="submit", tx_id="t"),
        CommitError("t", 10, "ENDORSEMENT_POLICY_FAILURE", 9),
    ):
        ledger = FakeLedger()
        ledger.fail_before_order.append(error)
        outcome = submit_records(ledger, [change(0), change(1)])
        assert outcome.retry == [0, 1], error
        assert outcome.doubtful == []
        assert outcome.failure is error


def test_a_lost_commit_status_leaves_the_changes_in_doubt_with_the_tx_id() -> None:
    ledger = FakeLedger()
    ledger.lose_commit_status = 1
    outcome = submit_records(ledger, [change(0)])

    tx_id = next(iter(ledger.transactions))
    assert outcome.doubtful == [(0, tx_id, 0)]
    assert outcome.committed == []


def test_a_submit_timeout_may_have_been_ordered_so_it_is_a_doubt() -> None:
    ledger = FakeLedger()
    ledger.fail_before_order.append(LedgerTimeout("slow", phase="submit", tx_id="t1"))
    outcome = submit_records(ledger, [change(0)])
    assert outcome.doubtful == [(0, "t1", 0)]


def test_an_mvcc_conflict_is_settled_from_state_not_retried_blindly() -> None:
    ledger = FakeLedger()
    ledger.fail_before_order.append(CommitError("t", 11, "MVCC_READ_CONFLICT", 9))
    outcome = submit_records(ledger, [change(0)])
    assert outcome.doubtful == [(0, None, 0)]


def test_revoke_commits_or_is_rejected_with_the_reason() -> None:
    ledger = FakeLedger()
    record = change(0)
    submit_records(ledger, [record])
    revoke = change(1, pseudonym=record.pseudonym, action="revoke")

    first = submit_revoke(ledger, revoke)
    again = submit_revoke(ledger, revoke)

    assert [c.version for c in first.committed] == [2]
    assert first.permissions[0].status == "revoked"
    assert [r.code for r in again.rejected] == ["CONFLICT"]


def test_settling_a_known_transaction_by_its_commit_status() -> None:
    ledger = FakeLedger()
    ledger.lose_commit_status = 1
    pending = change(0)
    doubt = submit_records(ledger, [pending])
    tx_id = doubt.doubtful[0][1]

    settled = settle(ledger, [pending], tx_id, 0, 3, nobody)

    assert [(c.seq, c.tx_id) for c in settled.committed] == [(0, tx_id)]
    assert ledger.writes_of("h1MSP", pending.pseudonym, "s1") == 1


def test_a_peer_still_away_keeps_the_doubt() -> None:
    ledger = FakeLedger()
    ledger.commit_status_errors.append(LedgerUnavailable("down", phase="commit_status"))
    outcome = settle(ledger, [change(0)], "t1", 1, 3, nobody)
    assert outcome.doubtful == [(0, "t1", 1)]


def test_commit_status_timeouts_count_then_the_state_decides() -> None:
    ledger = FakeLedger()
    pending = change(0)
    first = settle(ledger, [pending], "never-ordered", 0, 2, nobody)
    assert first.doubtful == [(0, "never-ordered", 1)]

    second = settle(ledger, [pending], "never-ordered", 1, 2, nobody)
    assert second.retry == [0]  # not on the ledger: safe to submit again


def test_a_lost_transaction_is_found_by_the_state_it_wrote() -> None:
    ledger = FakeLedger()
    ledger.lose_commit_status = 1
    pending = change(0)
    submit_records(ledger, [pending])

    settled = settle(ledger, [pending], None, 0, 3, nobody)

    assert [c.version for c in settled.committed] == [1]
    assert settled.committed[0].block_number == ledger.block


def test_the_state_of_an_earlier_identical_change_is_not_taken_for_this_one() -> None:
    ledger = FakeLedger()
    first = change(0)
    done = submit_records(ledger, [first])
    twin = replace(first, seq=1, change_id="c1")  # same key and content, a later change
    tx_of_first = done.committed[0].tx_id

    def first_owns(tx: str, key: Key) -> bool:
        return tx == tx_of_first and key == first.key

    settled = settle(ledger, [twin], None, 0, 3, first_owns)
    assert settled.retry == [1]
