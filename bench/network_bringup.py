"""Bring-up time and memory of the local Fabric network for several consortium sizes.

Each size starts from an empty MEDCHAIN_HOME with cached Fabric binaries and a built chaincode
server, and is timed until the chaincode definition is committed and every server answers. Memory
is the summed resident set of every orderer, peer and chaincode server right after bring-up.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from medchain.network import chaincode, processes
from medchain.network.binaries import ensure_fabric
from medchain.network.config import Layout, NetworkSettings
from medchain.network.fabric_network import FabricNetwork

BASE_PORT = 27000


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _network_pids(layout: Layout) -> list[int]:
    pids = [processes.read_pid(p) for p in (layout.root / "pids").glob("*.pid")]
    return [p for p in pids if p]


def measure(hospitals: int, home: Path) -> dict[str, Any]:
    """Bring up one network, measure it, remove it."""
    settings = NetworkSettings(home=home, hospitals=hospitals, fabric_base_port=BASE_PORT)
    network = FabricNetwork(settings=settings, hospitals=hospitals)
    chaincode.build_server(network.layout, chaincode.source_hash())  # compile outside the timing
    try:
        started = time.perf_counter()
        status = network.up()
        elapsed = time.perf_counter() - started
        if not status.healthy:
            raise RuntimeError(f"network of {hospitals} hospitals is not healthy after up")
        pids = _network_pids(network.layout)
        memory = sum(rss_bytes(pid) for pid in pids)
        return {
            "hospitals": hospitals,
            "processes": len(pids),
            "bring_up_s": round(elapsed, 2),
            "memory_mib": round(memory / 2**20, 1),
            "memory_per_hospital_mib": round(memory / 2**20 / hospitals, 1),
        }
    finally:
        network.clean()


def run(quick: bool) -> dict[str, Any]:
    """Measure N = 3 (quick) or N = 3, 5, 10 (full)."""
    ensure_fabric()
    sizes = [3] if quick else [3, 5, 10]
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="medchain-bench-") as tmp:
            rows.append(measure(size, Path(tmp)))
    notes = ["goal for 3 hospitals: bring-up under 15 s and all nodes under 1 GiB"]
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth_t = (last["bring_up_s"] - first["bring_up_s"]) / (
            last["hospitals"] - first["hospitals"]
        )
        growth_m = (last["memory_mib"] - first["memory_mib"]) / (
            last["hospitals"] - first["hospitals"]
        )
        notes.append(
            f"growth from {first['hospitals']} to {last['hospitals']} hospitals: "
            f"{growth_t:+.2f} s and {growth_m:+.1f} MiB per added hospital"
        )
    return {"title": "Fabric network bring-up and memory", "rows": rows, "notes": notes}
