"""Integration fixtures: a real Fabric network per session, on its own ports and home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medchain.ledger import ConsentLedger, Gateway, Network, StudyLedger, connect
from medchain.network.config import NetworkSettings
from medchain.network.fabric_network import FabricNetwork

#: Away from the default 7000 so a developer's own network keeps running during the tests.
TEST_BASE_PORT = 17000


def make_network(home: Path, hospitals: int, base_port: int) -> FabricNetwork:
    """A network under `home`; integration tests always pass explicit settings."""
    settings = NetworkSettings(home=home, hospitals=hospitals, fabric_base_port=base_port)
    return FabricNetwork(settings=settings, hospitals=hospitals)


@pytest.fixture(scope="session")
def fabric_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FabricNetwork]:
    """A 3-hospital network, up for the whole session, removed afterwards."""
    network = make_network(tmp_path_factory.mktemp("fabric"), 3, TEST_BASE_PORT)
    try:
        network.up()
        yield network
    finally:
        network.clean()


@pytest.fixture(scope="session")
def gateways(fabric_network: FabricNetwork) -> Iterator[dict[str, Gateway]]:
    """One gateway per hospital (User1) plus `coordinator` (h1's User2)."""
    opened = {org: connect(fabric_network.connection_profile(org)) for org in ("h1", "h2", "h3")}
    opened["coordinator"] = connect(fabric_network.connection_profile("h1", "User2"))
    try:
        yield opened
    finally:
        for gateway in opened.values():
            gateway.close()


@pytest.fixture(scope="session")
def networks(gateways: dict[str, Gateway]) -> dict[str, Network]:
    return {name: gw.get_network("medchain") for name, gw in gateways.items()}


@pytest.fixture(scope="session")
def consent_ledgers(networks: dict[str, Network]) -> dict[str, ConsentLedger]:
    return {name: ConsentLedger.for_network(net) for name, net in networks.items()}


@pytest.fixture(scope="session")
def study_ledgers(networks: dict[str, Network]) -> dict[str, StudyLedger]:
    return {name: StudyLedger.for_network(net) for name, net in networks.items()}
