"""Which network the dashboard inspects, and how long it reuses a status."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

from medchain.dashboard.network_status import LocalNetworkProbe, local_network
from medchain.network.config import NetworkSettings
from medchain.network.fabric_network import FabricNetwork, NetworkStatus


def test_no_probe_without_a_network_brought_up_under_the_home(tmp_path: Path) -> None:
    assert local_network(NetworkSettings(home=tmp_path)) is None


def test_a_network_under_the_home_is_probed_with_its_hospitals(tmp_path: Path) -> None:
    state = tmp_path / "network" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(
        '{"hospitals": 4, "base_port": 7000, "channel": "medchain", "fabric_version": "3.1.5"}'
    )
    probe = local_network(NetworkSettings(home=tmp_path))
    assert probe is not None
    assert probe.hospital_msp_ids() == ["h1MSP", "h2MSP", "h3MSP", "h4MSP"]


def test_status_is_reused_for_its_ttl() -> None:
    calls: list[int] = []
    now = [0.0]

    def status() -> NetworkStatus:
        calls.append(1)
        return NetworkStatus()

    network = cast(FabricNetwork, SimpleNamespace(status=status))
    probe = LocalNetworkProbe(network, ttl=5.0, clock=lambda: now[0])
    probe.status()
    now[0] = 4.0
    probe.status()
    assert len(calls) == 1
    now[0] = 9.5
    probe.status()
    assert len(calls) == 2
