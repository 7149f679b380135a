"""A throwaway Fabric network for one benchmark run, on its own ports and home."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medchain.network.config import NetworkSettings
from medchain.network.fabric_network import FabricNetwork

BENCH_BASE_PORT = 27000


@contextmanager
def running_network(hospitals: int = 3) -> Iterator[FabricNetwork]:
    """Bring a fresh network up, yield it, remove it."""
    with tempfile.TemporaryDirectory(prefix="medchain-bench-") as tmp:
        settings = NetworkSettings(
            home=Path(tmp), hospitals=hospitals, fabric_base_port=BENCH_BASE_PORT
        )
        network = FabricNetwork(settings=settings, hospitals=hospitals)
        try:
            network.up()
            yield network
        finally:
            network.clean()
