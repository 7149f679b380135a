"""End to end: `medchain demo --json` on a fresh home, an independent audit, and a clean `down`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

#: Away from the defaults and from the integration tests' ports.
FABRIC_BASE_PORT = "37000"
SERVICE_BASE_PORT = "38000"


def medchain(home: Path, *args: str, timeout: float = 1500) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MEDCHAIN_HOME": str(home),
        "MEDCHAIN_FABRIC_BASE_PORT": FABRIC_BASE_PORT,
        "MEDCHAIN_SERVICE_BASE_PORT": SERVICE_BASE_PORT,
    }
    env.pop("MEDCHAIN_ENVIRONMENT", None)
    return subprocess.run(
        [sys.executable, "-m", "medchain.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("e2e-home")
    try:
        yield path
    finally:
        medchain(path, "down", timeout=300)
        medchain(path, "network", "clean", timeout=300)


@pytest.fixture(scope="module")
def demo(home: Path) -> dict[str, object]:
    result = medchain(home, "demo", "--rounds", "3", "--json")
    assert result.returncode == 0, result.stderr[-4000:]
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_demo_completes_every_round_on_the_ledger(demo: dict[str, object]) -> None:
    assert demo["status"] == "completed"
    rounds = demo["rounds"]
    assert isinstance(rounds, list)
    assert [r["round"] for r in rounds] == [1, 2, 3]
    for r in rounds:
        assert len(r["tx_id"]) == 64
        assert r["block"] > 0
        assert 0.5 < r["accuracy"] <= 1.0
    assert isinstance(demo["pooled_baseline"], float)
    gap = demo["gap_to_pooled"]
    assert isinstance(gap, float)
    assert abs(gap) < 0.1
    assert str(demo["aggregator_url"]).startswith("http://127.0.0.1:")
    assert len(str(demo["final_model_hash"])) == 64


def test_audit_verifies_the_final_model(home: Path, demo: dict[str, object]) -> None:
    result = medchain(home, "audit", "model", str(demo["final_model_hash"]), "--json")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["verified"] is True
    assert report["rounds"] == [3, 2, 1]


def test_audit_rejects_an_unknown_model(home: Path, demo: dict[str, object]) -> None:
    result = medchain(home, "audit", "model", "f" * 64, "--json")
    assert result.returncode == 1


def test_down_leaves_no_process(home: Path, demo: dict[str, object]) -> None:
    status = medchain(home, "status", "--json")
    components = json.loads(status.stdout)["components"]
    pids = [c["pid"] for c in components if c["pid"]]
    assert len(pids) == len(components)
    result = medchain(home, "down")
    assert result.returncode == 0, result.stderr
    assert not [pid for pid in pids if _alive(pid)]
