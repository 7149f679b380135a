"""Integration fixtures: a real Fabric network per session, on its own ports and home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
