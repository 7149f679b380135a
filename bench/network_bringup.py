"""Scale: bring-up time, memory and federated round time for 3, 5 and 10 hospitals.

Each size starts from an empty MEDCHAIN_HOME with cached Fabric binaries and a built chaincode
server, and is timed until the chaincode definition is committed and every server answers. Memory
is the summed resident set of every orderer, peer and chaincode server right after bring-up, and
again after a short study. Then a short breast cancer study (3 FedAvg rounds, every hospital a
participant, every round endorsed on the ledger) runs in-process on that network: every
hospital's ingest and trainer plus the aggregator live in this Python process, whose resident set
is reported as the services' memory.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.federated_study import run_study
from medchain.network import chaincode, processes
from medchain.network.binaries import ensure_fabric
from medchain.network.config import Layout, NetworkSettings
from medchain.network.fabric_network import FabricNetwork

BASE_PORT = 27000
STUDY_ROUNDS = 3


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _network_pids(layout: Layout) -> list[int]:
    pids = [processes.read_pid(p) for p in (layout.root / "pids").glob("*.pid")]
    return [p for p in pids if p]


def _mib(value: int) -> float:
    return round(value / 2**20, 1)


def measure(hospitals: int, home: Path, study_rounds: int = STUDY_ROUNDS) -> dict[str, Any]:
    """Bring up one network, measure it, run a short study on it, remove it."""
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
        row: dict[str, Any] = {
            "hospitals": hospitals,
            "processes": len(pids),
            "bring_up_s": round(elapsed, 2),
            "memory_mib": _mib(memory),
            "memory_per_hospital_mib": round(memory / 2**20 / hospitals, 1),
        }
        if study_rounds:
            try:
                study, _ = run_study(network, home / "study", "breast_cancer", study_rounds)
            except Exception as exc:  # noqa: BLE001 - report the failure with the bring-up figures
                row["study_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:400]}"
                return row
            nodes_after = sum(rss_bytes(pid) for pid in _network_pids(network.layout))
            services = rss_bytes(os.getpid())
            clean = study.clean_rounds() or study.rounds
            times = [float(r["timings"]["total_s"]) for r in clean]
            row.update(
                {
                    "study_setup_s": round(sum(study.setup_s.values()), 1),
                    "round_s_median": round(statistics.median(times), 3),
                    "round_ledger_s_median": round(
                        statistics.median(float(r["timings"]["ledger_s"]) for r in clean),
                        3,
                    ),
                    "final_accuracy": round(study.rounds[-1]["metrics"]["accuracy"], 4),
                    "nodes_after_study_mib": _mib(nodes_after),
                    "python_services_mib": _mib(services),
                    "total_memory_mib": _mib(nodes_after + services),
                    "rounds_resumed": len(study.resumed),
                }
            )
            row["events"] = [*study.events, *(f"round {n}: {e}" for n, e in study.resumed.items())]
        return row
    finally:
        network.clean()


def measure_in_subprocess(hospitals: int) -> dict[str, Any]:
    """`measure` in a fresh Python process, so each size's services memory is its own."""
    with tempfile.TemporaryDirectory(prefix="medchain-bench-") as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "bench.network_bringup", str(hospitals), tmp],
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.PIPE,
            timeout=1800,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"measuring {hospitals} hospitals exited {done.returncode}")
    row: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return row


def _growth(rows: list[dict[str, Any]], key: str) -> float:
    first, last = rows[0], rows[-1]
    change = float(last[key]) - float(first[key])
    return change / (int(last["hospitals"]) - int(first["hospitals"]))


def run(quick: bool) -> dict[str, Any]:
    """Measure N = 3 (quick) or N = 3, 5, 10 (full)."""
    ensure_fabric()
    sizes = [3] if quick else [3, 5, 10]
    rows = [measure_in_subprocess(size) for size in sizes]
    events: list[str] = []
    for row in rows:
        events += [f"{row['hospitals']} hospitals: {e}" for e in row.pop("events", [])]
        if "study_error" in row:
            events.append(f"{row['hospitals']} hospitals: study failed - {row.pop('study_error')}")
    three = rows[0]
    verdict = "met" if three["bring_up_s"] < 15 and three["memory_mib"] < 1024 else "NOT met"
    notes = [
        f"goal for 3 hospitals: bring-up under 15 s and all nodes under 1 GiB: {verdict} "
        f"({three['bring_up_s']} s, {three['memory_mib']} MiB)"
    ]
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = (
            f"growth from {first['hospitals']} to {last['hospitals']} hospitals, per added "
            f"hospital: bring-up {_growth(rows, 'bring_up_s'):+.2f} s, node memory "
            f"{_growth(rows, 'memory_mib'):+.1f} MiB"
        )
        if all("round_s_median" in r for r in (first, last)):
            growth += (
                f", total memory after the study {_growth(rows, 'total_memory_mib'):+.1f} MiB, "
                f"median round {_growth(rows, 'round_s_median'):+.3f} s "
                f"({last['round_s_median'] / first['round_s_median']:.2f}x the round time for "
                f"{last['hospitals'] / first['hospitals']:.2f}x the hospitals)"
            )
        notes.append(growth)
    notes += [f"recovery or failure: {e}" for e in events]
    notes += [
        "rounds_resumed: rounds that failed once (a peer a block behind the one that confirmed "
        "the previous step) and were finished by the aggregator resuming from the ledger; the "
        "medians leave them out",
        "processes = orderers (3) + one peer and one chaincode server per hospital",
        "memory_mib: Fabric nodes right after bring-up; nodes_after_study_mib: the same after the "
        "study; python_services_mib: this process, which runs every hospital's ingest and trainer "
        "and the aggregator in-process; total = the two",
        f"study: breast cancer split non-IID over all hospitals, {STUDY_ROUNDS} FedAvg rounds, "
        "MAJORITY endorsement; study_setup_s = services start + FHIR ingest + consents on the "
        "ledger + study creation; round times from the aggregator's round timings",
    ]
    return {
        "title": "Scale: Fabric bring-up, memory and federated round time by consortium size",
        "rows": rows,
        "notes": notes,
    }


if __name__ == "__main__":
    # python -m bench.network_bringup HOSPITALS HOME: measure one size, print its row as JSON.
    print(json.dumps(measure(int(sys.argv[1]), Path(sys.argv[2]))), flush=True)
