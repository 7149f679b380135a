"""Peer outages on the real network: every accepted change is committed exactly once, whether
the peer was down when it was accepted, went down while it was in flight, or the service itself
restarted in between."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from medchain.common.db import transaction
from medchain.consent.tables import ChangeRow
from medchain.ledger import ConsentLedger
from medchain.network.fabric_network import FabricNetwork
from tests.integration.consent.conftest import (
    Hospital,
    all_committed,
    consent_settings,
    running,
    wait_until,
)
from tests.unit.consent.examples import compact

pytestmark = pytest.mark.integration
PEER = "peer0.h1"


def _batch(study: str, size: int) -> dict[str, Any]:
    return {"consents": [compact(secrets.token_hex(6), study=study) for _ in range(size)]}


def _assert_written_once(
    hospital: Hospital, status_urls: list[str], ledger: ConsentLedger, study: str
) -> int:
    """Every change of the submissions is committed, and its key is at version 1 on the ledger
    (a second write of the same key would have made it 2)."""
    changes = [c for url in status_urls for c in hospital.get(url).json()["changes"]]
    assert {c["state"] for c in changes} == {"committed"}
    submissions = [hospital.service.submission(url.rsplit("/", 1)[1]) for url in status_urls]
    keys = [c.pseudonym for s in submissions for c in s.changes]
    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(lambda p: ledger.get("h1MSP", p, study).version, keys))
    assert versions == [1] * len(keys)
    return len(keys)


def _retried(hospital: Hospital) -> dict[str, int]:
    """How many changes needed more than one attempt, and how many were ever in doubt."""
    with transaction(hospital.service.sessions) as session:
        rows = session.execute(select(ChangeRow.attempts, ChangeRow.last_tx_id)).all()
    return {
        "resubmitted": sum(attempts > 1 for attempts, _ in rows),
        "were_in_doubt": sum(tx is not None for _, tx in rows),
    }


def test_changes_accepted_while_the_peer_is_down_survive_a_restart_and_commit_once(
    fabric_network: FabricNetwork, tmp_path: Path, consent_ledgers: dict[str, ConsentLedger]
) -> None:
    study = f"it-outage-{secrets.token_hex(3)}"
    settings = consent_settings(fabric_network, tmp_path / "h1", "h1", commit_deadline_seconds=1.0)
    with running(settings) as warm:  # discovery has learnt the other peers
        assert warm.post("/consents", _batch(study, 1)).status_code in (201, 202)
    fabric_network.stop_node(PEER)
    try:
        with running(settings) as during:
            responses = [during.post("/consents", _batch(study, 200)) for _ in range(3)]
            assert [r.status_code for r in responses] == [202, 202, 202]
            urls = [r.headers["location"] for r in responses]
        # the service stopped with its changes pending: they are only in its database
    finally:
        fabric_network.start_node(PEER)
    with running(settings) as after:
        wait_until(lambda: all_committed(after, urls), timeout=180)
        assert _assert_written_once(after, urls, consent_ledgers["h1"], study) == 600


def test_a_peer_stopped_while_changes_are_in_flight_loses_and_doubles_nothing(
    fabric_network: FabricNetwork, tmp_path: Path, consent_ledgers: dict[str, ConsentLedger]
) -> None:
    study = f"it-inflight-{secrets.token_hex(3)}"
    settings = consent_settings(fabric_network, tmp_path / "h1", "h1")
    responses: list[Any] = []
    with running(settings) as hospital:
        assert hospital.post("/consents", _batch(study, 1)).status_code == 201

        def post_batches() -> None:
            for _ in range(4):
                responses.append(hospital.post("/consents", _batch(study, 500)))

        poster = threading.Thread(target=post_batches)
        poster.start()
        time.sleep(1.5)  # the first batch is being endorsed, ordered or committed
        fabric_network.stop_node(PEER)
        try:
            time.sleep(3.0)
        finally:
            fabric_network.start_node(PEER)
        poster.join(timeout=300)
        assert not poster.is_alive()
        assert {r.status_code for r in responses} <= {201, 202}
        urls = [r.json()["statusUrl"] for r in responses]
        wait_until(lambda: all_committed(hospital, urls), timeout=180)
        assert _assert_written_once(hospital, urls, consent_ledgers["h1"], study) == 2000
        assert hospital.service.outbox.totals["failures"] >= 1  # the outage did hit a job
        print("outbox totals:", hospital.service.outbox.totals, "retried:", _retried(hospital))


def test_transactions_whose_commit_status_times_out_are_settled_not_resubmitted(
    fabric_network: FabricNetwork, tmp_path: Path, consent_ledgers: dict[str, ConsentLedger]
) -> None:
    study = f"it-doubt-{secrets.token_hex(3)}"
    # A commit-status deadline far below the block time: every transaction's fate is unknown
    # when its submit returns, so every change goes through the in-doubt path.
    settings = consent_settings(
        fabric_network, tmp_path / "h1", "h1", ledger_commit_seconds=0.02, doubt_checks=2
    )
    with running(settings) as hospital:
        responses = [hospital.post("/consents", _batch(study, 100)) for _ in range(3)]
        urls = [r.json()["statusUrl"] for r in responses]
        wait_until(lambda: all_committed(hospital, urls), timeout=180)
        assert _assert_written_once(hospital, urls, consent_ledgers["h1"], study) == 300
        assert _retried(hospital)["were_in_doubt"] >= 300
