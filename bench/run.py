"""`make bench` / `make bench-quick`: run every benchmark, write JSON, regenerate the report."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from bench.report import render_report, use_quick_output, write_result

#: Benchmark modules under bench/, each with `run(quick: bool) -> dict`, in report order.
BENCHMARKS = [
    "federated_round",
    "ledger_throughput",
    "federated_accuracy",
    "network_bringup",
    "ingest_rate",
    "consent_throughput",
]


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in {"quick", "full"}:
        print("usage: python -m bench.run quick|full [benchmark ...]", file=sys.stderr)
        return 2
    quick = argv[1] == "quick"
    selected = argv[2:] or BENCHMARKS
    use_quick_output(quick)
    command = " ".join([".venv/bin/python -m bench.run", *argv[1:]])
    if not argv[2:] and os.environ.get("MAKELEVEL"):
        command = "make bench-quick" if quick else "make bench"
    failed = []
    for name in selected:
        print(f"== {name}", flush=True)
        try:
            result = importlib.import_module(f"bench.{name}").run(quick)
        except Exception:  # noqa: BLE001 - report every failing benchmark, then fail the run
            traceback.print_exc()
            failed.append(name)
            continue
        path = write_result(name, result, command)
        for row in result.get("rows", []):
            print("  ", row)
        print(f"   -> {path}")
    report = render_report(BENCHMARKS)
    print(f"report: {report}")
    if failed:
        print(f"failed benchmarks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
