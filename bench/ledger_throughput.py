"""Submits committed per second through medchain.ledger at several concurrencies, and latency.

Each submit records one consent (one transaction, endorsed by a majority, ordered, committed and
confirmed through CommitStatus). A second part records batches of 1,000 consents per transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import statistics
import time
from typing import Any

from bench.fabric_fixture import running_network
from medchain.ledger import AsyncContract, ConsentInput, connect_async
from medchain.network.fabric_network import FabricNetwork

EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _consent(org: str) -> ConsentInput:
    return ConsentInput(
        pseudonym=secrets.token_hex(32),
        org=org,
        study="bench",
        decision="permit",
        valid_from=EPOCH,
        valid_until=None,
        document_hash=secrets.token_hex(32),
    )


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def _submits(
    contract: AsyncContract, org: str, total: int, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    queue = list(range(total))

    async def worker() -> None:
        while queue:
            queue.pop()
            started = time.perf_counter()
            result = await contract.submit("Record", _consent(org).to_arg())
            if result.validation_code != 0:
                raise RuntimeError(f"transaction invalid: {result.validation_code}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "case": f"single-consent submits, concurrency {concurrency}",
        "transactions": total,
        "tx_per_s": round(total / elapsed, 1),
        "consents_per_s": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
    }


async def _batches(contract: AsyncContract, org: str, batches: int, size: int) -> dict[str, Any]:
    payloads = [
        b"[" + b",".join(_consent(org).to_arg() for _ in range(size)) + b"]" for _ in range(batches)
    ]
    latencies: list[float] = []
    started = time.perf_counter()
    for payload in payloads:
        begun = time.perf_counter()
        result = await contract.submit("RecordBatch", payload)
        if result.validation_code != 0:
            raise RuntimeError(f"batch invalid: {result.validation_code}")
        latencies.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    return {
        "case": f"batches of {size} consents, sequential",
        "transactions": batches,
        "tx_per_s": round(batches / elapsed, 2),
        "consents_per_s": round(batches * size / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "batch_arg_bytes": len(payloads[0]),
    }


async def _measure(network: FabricNetwork, quick: bool) -> list[dict[str, Any]]:
    gateway = connect_async(network.connection_profile("h1"))
    try:
        contract = gateway.get_network("medchain").get_contract("medchain", "consent")
        await contract.submit("Record", _consent("h1MSP").to_arg())  # warm up channels
        rows = []
        for concurrency, total in ((1, 20), (8, 80), (32, 160)) if not quick else ((1, 5), (8, 16)):
            rows.append(await _submits(contract, "h1MSP", total, concurrency))
        rows.append(await _batches(contract, "h1MSP", 2 if quick else 5, 1000))
        return rows
    finally:
        await gateway.close()


def run(quick: bool) -> dict[str, Any]:
    with running_network() as network:
        rows = asyncio.run(_measure(network, quick))
    return {
        "title": "medchain.ledger submits: throughput and latency (3 hospitals, MAJORITY)",
        "rows": rows,
        "notes": [
            "latency = endorse + submit + commit status seen by the client; BatchTimeout 250ms",
            "Fabric limits for comparison: orderer AbsoluteMaxBytes 99 MB, gRPC max message 100 MB",
        ],
    }
