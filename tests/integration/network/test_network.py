"""The real network: status, invoke and query through the stock peer CLI, restart, fault tolerance.

Ordered as one story on the session network: each test leaves it healthy for the next.
"""

from __future__ import annotations

import time

import pytest

from medchain.network.fabric_network import FabricNetwork
from tests.integration.conftest import TEST_BASE_PORT, make_network
from tests.integration.network.peer_cli import get_consent, record_consent

pytestmark = pytest.mark.integration


def _heights(network: FabricNetwork) -> dict[str, int | None]:
    return {n.org: n.height for n in network.status().nodes if n.kind == "peer"}


def test_status_reports_every_node_healthy(fabric_network: FabricNetwork) -> None:
    status = fabric_network.status()
    kinds = sorted(n.kind for n in status.nodes)
    assert kinds == ["chaincode"] * 3 + ["orderer"] * 3 + ["peer"] * 3
    assert status.healthy, status.as_dict()
    assert all(n.pid for n in status.nodes)
    assert all((n.height or 0) >= 1 for n in status.nodes if n.kind == "peer")
    assert status.chaincode is not None
    assert status.chaincode["committed_sequence"] >= 1


def test_invoke_and_query_through_peer_cli(fabric_network: FabricNetwork) -> None:
    consent = record_consent(fabric_network, "h1", ["h1", "h2"])
    stored = get_consent(fabric_network, "h3", consent)
    assert stored["pseudonym"] == consent["pseudonym"]
    assert stored["decision"] == "permit"
    assert stored["version"] == 1


def test_up_on_running_network_changes_nothing(fabric_network: FabricNetwork) -> None:
    before = {n.name: n.pid for n in fabric_network.status().nodes}
    state_before = fabric_network.state()
    fabric_network.up()
    assert {n.name: n.pid for n in fabric_network.status().nodes} == before
    assert fabric_network.state() == state_before


def test_down_then_up_keeps_the_ledger(fabric_network: FabricNetwork) -> None:
    consent = record_consent(fabric_network, "h2", ["h2", "h3"])
    height = _heights(fabric_network)["h2"]
    stopped = fabric_network.down()
    assert len(stopped) == 9
    assert not any(n.pid for n in fabric_network.status().nodes)
    fabric_network.up()
    assert get_consent(fabric_network, "h2", consent)["documentHash"] == consent["documentHash"]
    assert (_heights(fabric_network)["h2"] or 0) >= (height or 0)


def test_commits_with_one_orderer_stopped(fabric_network: FabricNetwork) -> None:
    fabric_network.stop_node("orderer2")
    try:
        consent = record_consent(fabric_network, "h1", ["h1", "h2"])
        assert get_consent(fabric_network, "h2", consent)["version"] == 1
    finally:
        fabric_network.start_node("orderer2")


def test_majority_endorsement_with_one_peer_stopped_and_catch_up(
    fabric_network: FabricNetwork,
) -> None:
    fabric_network.stop_node("peer0.h3")
    try:
        consents = [record_consent(fabric_network, "h1", ["h1", "h2"]) for _ in range(2)]
        assert get_consent(fabric_network, "h2", consents[-1])["version"] == 1
    finally:
        fabric_network.start_node("peer0.h3")
    target = _heights(fabric_network)["h1"]
    deadline = time.monotonic() + 60
    while _heights(fabric_network)["h3"] != target and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _heights(fabric_network)["h3"] == target
    assert get_consent(fabric_network, "h3", consents[-1])["pseudonym"] == consents[-1]["pseudonym"]


def test_chaincode_upgrade_bumps_version_and_sequence(fabric_network: FabricNetwork) -> None:
    before = fabric_network.state()
    assert before is not None
    assert before.chaincode is not None
    consent = record_consent(fabric_network, "h1", ["h1", "h3"])
    after = fabric_network.force_upgrade()
    assert after.sequence == before.chaincode.sequence + 1
    assert after.version != before.chaincode.version
    status = fabric_network.status()
    assert status.chaincode is not None
    assert status.chaincode["committed_sequence"] == after.sequence
    assert get_consent(fabric_network, "h1", consent)["version"] == 1
    record_consent(fabric_network, "h1", ["h1", "h2"])


@pytest.mark.parametrize("hospitals", [2, 4])
def test_other_consortium_sizes(tmp_path_factory: pytest.TempPathFactory, hospitals: int) -> None:
    network = make_network(
        tmp_path_factory.mktemp(f"fabric{hospitals}"), hospitals, TEST_BASE_PORT + 500
    )
    try:
        status = network.up()
        assert status.healthy, status.as_dict()
        assert len([n for n in status.nodes if n.kind == "peer"]) == hospitals
        last = f"h{hospitals}"
        majority = [f"h{i}" for i in range(1, hospitals // 2 + 2)]
        consent = record_consent(network, "h1", majority)
        assert get_consent(network, last, consent)["pseudonym"] == consent["pseudonym"]
    finally:
        network.clean()
    assert not any(n.pid for n in network.status().nodes)
