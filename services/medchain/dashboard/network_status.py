"""The Fabric network's health as the dashboard shows it: every node and each peer's height.

`FabricNetwork.status()` runs the peer CLI once per peer, so a status is reused for a few seconds.
Only a network run on this machine (`medchain network up` under MEDCHAIN_HOME) can be inspected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from medchain.network.config import Layout, NetworkSettings
from medchain.network.fabric_network import FabricNetwork, NetworkStatus


class NetworkProbe(Protocol):
    """Where the network page's facts come from."""

    def status(self) -> NetworkStatus: ...

    def hospital_msp_ids(self) -> list[str]: ...


class LocalNetworkProbe:
    """A `FabricNetwork` on this machine, its status cached for `ttl` seconds."""

    def __init__(
        self, network: FabricNetwork, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.network = network
        self.ttl = ttl
        self._clock = clock
        self._cached: tuple[float, NetworkStatus] | None = None
        self._lock = threading.Lock()

    def status(self) -> NetworkStatus:
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached[0] > self.ttl:
                self._cached = (now, self.network.status())
            return self._cached[1]

    def hospital_msp_ids(self) -> list[str]:
        return [Layout.msp_id(org) for org in self.network.layout.orgs]


def local_network(
    settings: NetworkSettings | None = None, ttl: float = 5.0
) -> LocalNetworkProbe | None:
    """The network under MEDCHAIN_HOME if one was brought up there, else None."""
    settings = settings or NetworkSettings()
    if not Layout.from_settings(settings).state_file.exists():
        return None
    return LocalNetworkProbe(FabricNetwork(settings), ttl)
