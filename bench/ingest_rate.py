"""Ingest rate: carebundle patients posted as transaction bundles, next to the parsing limit.

Every patient is one carebundle transaction Bundle (about 50 resources). The same bundles are
(1) parsed resource by resource with `fhir.resources` R4B models alone, in this process: the parsing
limit; (2) posted over HTTP, one bundle per request, to `python -m medchain.ingest` running as its
own process on SQLite, then on PostgreSQL. Goal: ingest at 60% or more of the parsing limit.
Usage: `python -m bench.ingest_rate quick|full` (quick: 100 patients; full: 10,000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from carebundle import PROFILES, generate_bundle, to_json
from fhir.resources.R4B import get_fhir_model_class

from bench.report import use_quick_output, write_result
from medchain.common.auth import ApiKeyFile, keys_file
from medchain.common.db import make_engine
from medchain.devtools.postgres import free_port, throwaway_cluster

GOAL = 0.60
#: Bundles sent (or parsed) before timing starts, in every stage alike: each process builds its
#: pydantic validators on first use, which a long-running service pays once.
WARMUP = 5
SECRET = "bench-secret-of-hospital-h1"
REPO = Path(__file__).resolve().parent.parent


def write_bundles(path: Path, patients: int) -> tuple[int, float]:
    """One transaction Bundle per line; returns the resource count and generation seconds."""
    profiles = sorted(PROFILES)
    started, resources = time.perf_counter(), 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(patients):
            text = to_json(generate_bundle(profile=profiles[i % len(profiles)], seed=i))
            resources += len(json.loads(text)["entry"])
            out.write(text.replace("\n", "") + "\n")
    return resources, time.perf_counter() - started


def bundles(path: Path) -> Iterator[bytes]:
    with path.open("rb") as lines:
        yield from (line.rstrip(b"\n") for line in lines)


def parsing_limit(path: Path) -> dict[str, Any]:
    """Resources per second that `fhir.resources` alone parses (JSON decoding not timed)."""
    resources, seconds = 0, 0.0
    for n, raw in enumerate(bundles(path)):
        entries = [e["resource"] for e in json.loads(raw)["entry"]]
        started = time.perf_counter()
        for resource in entries:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        if n >= WARMUP:
            seconds += time.perf_counter() - started
            resources += len(entries)
    return {"stage": "fhir.resources parse only", "resources": resources, "seconds": seconds}


@contextmanager
def ingest_server(home: Path, database_url: str) -> Iterator[tuple[str, str]]:
    """`python -m medchain.ingest` in its own process; yields its base URL and an API key."""
    port = free_port()
    token = ApiKeyFile(keys_file(home)).issue("h1", "bench").token
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEDCHAIN_")},
        "MEDCHAIN_HOME": str(home),
        "MEDCHAIN_DATABASE_URL": database_url,
        "MEDCHAIN_SECRET_KEY": SECRET,
        "MEDCHAIN_LOG_LEVEL": "WARNING",
        "MEDCHAIN_INGEST_HTTP_PORT": str(port),
        "MEDCHAIN_INGEST_GRPC_PORT": str(free_port()),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "medchain.ingest"], env=env, cwd=REPO, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, token, server)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_healthy(base: str, token: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"ingest server exited: {stderr[-2000:]}")
        try:
            if httpx.get(
                f"{base}/healthz", headers={"Authorization": f"Bearer {token}"}
            ).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("ingest server did not become healthy within 60 s")


def post_all(path: Path, home: Path, database_url: str, label: str) -> dict[str, Any]:
    """Post every bundle, one request each, and time the whole run."""
    resources = 0
    with ingest_server(home, database_url) as (base, token), httpx.Client(timeout=120) as client:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
        started = time.perf_counter()
        for n, raw in enumerate(bundles(path)):
            if n == WARMUP:
                started, resources = time.perf_counter(), 0
            response = client.post(f"{base}/fhir", content=raw, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{label}: HTTP {response.status_code}: {response.text[:500]}")
            resources += len(response.json()["entry"])
        seconds = time.perf_counter() - started
        stats = client.get(f"{base}/stats", headers=headers).json()
    return {
        "stage": f"POST /fhir transactions, {label}",
        "resources": resources,
        "seconds": seconds,
        "patients_stored": stats["patients"],
    }


def run(quick: bool) -> dict[str, Any]:
    patients = 100 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="medchain-bench-ingest-") as tmp:
        root = Path(tmp)
        path = root / "bundles.ndjson"
        total, generation = write_bundles(path, patients)
        limit = parsing_limit(path)
        stages = [limit]
        stages.append(
            post_all(path, root / "sqlite-home", f"sqlite:///{root / 'ingest.sqlite3'}", "SQLite")
        )
        with throwaway_cluster() as cluster:
            admin = make_engine(cluster.url).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text('CREATE DATABASE "bench_ingest"'))
            admin.dispose()
            pg_url = cluster.url.rsplit("/", 1)[0] + "/bench_ingest"
            stages.append(post_all(path, root / "pg-home", pg_url, "PostgreSQL"))
    limit_rate = limit["resources"] / limit["seconds"]
    rows = []
    for stage in stages:
        rate = stage["resources"] / stage["seconds"]
        rows.append(
            {
                "stage": stage["stage"],
                "patients": patients,
                "resources": stage["resources"],
                "seconds": round(stage["seconds"], 1),
                "resources_per_s": round(rate),
                "share_of_parse_limit": round(rate / limit_rate, 3),
            }
        )
    result = {
        "title": "medchain.ingest: carebundle transactions over HTTP vs fhir.resources parsing",
        "rows": rows,
        "notes": [
            f"goal: ingest at >= {GOAL:.0%} of the fhir.resources parsing limit on each database",
            f"{total} resources in {patients} bundles, generated in {generation:.0f} s (not timed)",
            "server: python -m medchain.ingest, its own process; one client, one bundle a request",
            "PostgreSQL: throwaway local cluster (fsync=off); SQLite: WAL, synchronous=NORMAL",
            "the parsing limit times model_validate only, on already decoded JSON",
            f"the first {WARMUP} bundles of every stage are not timed (validator warm-up)",
        ],
    }
    mode = "quick" if quick else "full"
    write_result("ingest_rate", result, f"python -m bench.ingest_rate {mode}")
    return result


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in {"quick", "full"}:
        raise SystemExit("usage: python -m bench.ingest_rate quick|full")
    use_quick_output(sys.argv[1] == "quick")  # quick figures never replace the committed full ones
    outcome = run(sys.argv[1] == "quick")
    for row in outcome["rows"]:
        print(row)
