"""Run the test suites behind `make test` and `make test-unit`.

`all` runs the chaincode's Go tests, then every pytest suite (unit, integration against the real
Fabric network and databases, e2e) with one throwaway PostgreSQL cluster for the whole run, then
`make bench-quick` to check the benchmark harness works. pytest's "no tests collected" (exit 5) is
not a failure; every other non-zero exit is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medchain.devtools.postgres import throwaway_cluster

REPO = Path(__file__).resolve().parents[3]
NO_TESTS_COLLECTED = int(pytest.ExitCode.NO_TESTS_COLLECTED)


def _pytest(paths: list[str], extra: list[str]) -> int:
    code = subprocess.call([sys.executable, "-m", "pytest", *paths, *extra], cwd=REPO)
    return 0 if code == NO_TESTS_COLLECTED else code


def _go_tests() -> int:
    return subprocess.call(["go", "test", "-count=1", "./..."], cwd=REPO / "chaincode")


def _bench_quick() -> int:
    return subprocess.call([sys.executable, "-m", "bench.run", "quick"], cwd=REPO)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in {"unit", "all"}:
        print("usage: python -m medchain.devtools.testrun unit|all [pytest args]", file=sys.stderr)
        return 2
    suite, extra = argv[1], argv[2:]
    if suite == "unit":
        return _pytest(["tests/unit"], extra)
    results: dict[str, int] = {}
    if (REPO / "chaincode" / "go.mod").exists():
        results["go test (chaincode)"] = _go_tests()
    with throwaway_cluster() as cluster:
        os.environ["MEDCHAIN_TEST_POSTGRES_URL"] = cluster.url
        results["pytest"] = _pytest(["tests"], extra)
    # The benchmarks are measurements, never pass/fail on speed: `bench-quick` only fails here when
    # the harness itself breaks (a benchmark raises), so a slow machine never fails the tests.
    results["bench-quick (harness check)"] = _bench_quick()
    for name, code in results.items():
        print(f"{name}: {'ok' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
