"""Consent counts per hospital from `ConsentRecorded` events: states, blocks, and the follower."""

from __future__ import annotations

import json
import time

import pytest

from medchain.dashboard.consent_counts import ConsentCounts, ConsentFollower, ConsentTally
from medchain.ledger import LedgerError
from medchain.ledger.events import ChaincodeEvent
from tests.unit.dashboard.conftest import FakeReads


def consent_event(block: int, tx: str, *changes: tuple[str, str, str, str, str]) -> ChaincodeEvent:
    """changes: (org, pseudonym, study, decision, status)."""
    payload = {
        "txId": tx,
        "changes": [
            {"org": o, "pseudonym": p, "study": s, "decision": d, "status": st, "version": 1}
            for o, p, s, d, st in changes
        ],
    }
    return ChaincodeEvent(block, tx, "ConsentRecorded", json.dumps(payload).encode())


def history() -> list[ChaincodeEvent]:
    return [
        consent_event(
            5,
            "t1",
            ("h1MSP", "p1", "bc", "permit", "active"),
            ("h1MSP", "p2", "bc", "permit", "active"),
            ("h1MSP", "p3", "bc", "deny", "active"),
            ("h2MSP", "q1", "bc", "permit", "active"),
        ),
        ChaincodeEvent(6, "t2", "RoundCommitted", b"{}"),
        consent_event(7, "t3", ("h1MSP", "p2", "bc", "permit", "revoked")),
        consent_event(7, "t4", ("h1MSP", "p1", "other", "permit", "active")),
        consent_event(9, "t5", ("h1MSP", "p3", "bc", "permit", "active")),
    ]


def test_counts_follow_each_consent_state_per_org_and_block() -> None:
    tally = ConsentTally()
    applied = [tally.apply(e) for e in history()]
    assert applied == [True, False, True, True, True]
    assert tally.orgs() == ["h1MSP", "h2MSP"]
    assert tally.timeline("h1MSP") == [
        ConsentCounts(5, permit=2, deny=1, revoked=0),
        ConsentCounts(7, permit=2, deny=1, revoked=1),  # both block-7 transactions counted
        ConsentCounts(9, permit=3, deny=0, revoked=1),
    ]
    assert tally.timeline("h2MSP") == [ConsentCounts(5, 1, 0, 0)]
    assert tally.timeline("h9MSP") == []
    assert tally.last_block == 9


def test_an_unreadable_consent_event_is_a_ledger_error() -> None:
    with pytest.raises(LedgerError):
        ConsentTally().apply(ChaincodeEvent(3, "t", "ConsentRecorded", b'{"changes": 1}'))


def test_follower_counts_from_block_zero_and_resumes_after_its_checkpoint() -> None:
    reads = FakeReads()
    reads.events_given = history()
    follower = ConsentFollower(reads, retry_delay=0.01)
    follower.start()
    try:
        deadline = time.monotonic() + 5
        while len(reads.checkpoints) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        follower.stop()
    assert not follower.running
    assert reads.checkpoints[0] is None
    resumed = reads.checkpoints[1]
    assert resumed is not None
    assert (resumed.block_number, resumed.tx_ids) == (9, ("t5",))
    # Reconnecting never counts an event twice.
    assert follower.tally.timeline("h1MSP")[-1] == ConsentCounts(9, 3, 0, 1)
    assert follower.tally.events_applied == 4
