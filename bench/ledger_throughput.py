"""Consent submits through medchain.ledger next to the official Node client, same network, same run.

Each single submit records one consent (one transaction: endorsed by a majority of the hospitals,
ordered, committed and confirmed through CommitStatus); a batch submit records 1,000 consents in one
`RecordBatch` transaction. Python writes every payload to files; `medchain.ledger` (asyncio
client) and `@hyperledger/fabric-gateway` (bench/node_gateway/submit.js, pinned in its
package.json) then submit payloads of identical shape and size (fresh pseudonyms for each client,
so both write new keys) with the same identity (User1 of h1), TLS CA, endpoint, deadlines and
concurrency. Full mode runs every case twice, in the orders medchain-node and node-medchain, and
pools the two. Throughput = transactions / wall time; latency = submit call to commit status seen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fabric_fixture import running_network
from medchain.ledger import AsyncContract, ConnectionProfile, ConsentInput, connect_async
from medchain.network.fabric_network import FabricNetwork

EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
NODE_DIR = Path(__file__).resolve().parent / "node_gateway"
BATCH = 1000
GOAL_RATIO = 0.9


@dataclass(frozen=True)
class Case:
    name: str
    function: str
    transactions: int
    concurrency: int
    consents_per_tx: int


def cases(quick: bool) -> list[Case]:
    singles = ((1, 5), (8, 16), (32, 32)) if quick else ((1, 20), (8, 80), (32, 160))
    out = [Case(f"single-consent submits, concurrency {c}", "Record", n, c, 1) for c, n in singles]
    out.append(
        Case(f"batches of {BATCH} consents, sequential", "RecordBatch", 1 if quick else 5, 1, BATCH)
    )
    return out


def _consent(org: str) -> bytes:
    return ConsentInput(
        pseudonym=secrets.token_hex(32),
        org=org,
        study="bench",
        decision="permit",
        valid_from=EPOCH,
        valid_until=None,
        document_hash=secrets.token_hex(32),
    ).to_arg()


def write_payloads(path: Path, case: Case, org: str) -> None:
    """One transaction argument per line: a consent, or a JSON array of `BATCH` consents."""
    with path.open("wb") as out:
        for _ in range(case.transactions):
            if case.consents_per_tx == 1:
                line = _consent(org)
            else:
                line = b"[" + b",".join(_consent(org) for _ in range(case.consents_per_tx)) + b"]"
            if b"\n" in line:
                raise ValueError("payload lines must not contain newlines")
            out.write(line + b"\n")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Measured:
    transactions: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] | None = None

    def add(self, transactions: int, seconds: float, latencies_ms: list[float]) -> None:
        self.transactions += transactions
        self.seconds += seconds
        self.latencies_ms = (self.latencies_ms or []) + latencies_ms


# -- medchain.ledger -----------------------------------------------------------------------------


async def _medchain_case(
    contract: AsyncContract, function: str, path: Path, concurrency: int
) -> tuple[int, float, list[float]]:
    queue = path.read_bytes().splitlines()
    total = len(queue)
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            payload = queue.pop()
            started = time.perf_counter()
            result = await contract.submit(function, payload)
            if result.validation_code != 0:
                raise RuntimeError(f"transaction invalid: {result.validation_code}")
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total, time.perf_counter() - started, latencies


async def _medchain_all(
    profile: ConnectionProfile, warmup: Path, work: list[tuple[Case, Path]]
) -> list[tuple[int, float, list[float]]]:
    gateway = connect_async(profile)
    try:
        contract = gateway.get_network("medchain").get_contract("medchain", "consent")
        for payload in warmup.read_bytes().splitlines():
            await contract.submit("Record", payload)
        return [await _medchain_case(contract, c.function, p, c.concurrency) for c, p in work]
    finally:
        await gateway.close()


def run_medchain(
    profile: ConnectionProfile, warmup: Path, work: list[tuple[Case, Path]]
) -> list[tuple[int, float, list[float]]]:
    return asyncio.run(_medchain_all(profile, warmup, work))


# -- @hyperledger/fabric-gateway ----------------------------------------------------------------


def ensure_node_client() -> str:
    """Install the pinned Node client into bench/node_gateway; '' when ready, else the error."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node or npm is not on PATH"
    if (NODE_DIR / "node_modules" / "@hyperledger" / "fabric-gateway").exists():
        return ""
    command = ["npm", "ci"] if (NODE_DIR / "package-lock.json").exists() else ["npm", "install"]
    done = subprocess.run(
        [*command, "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        return f"`{' '.join(command)}` exited {done.returncode}: {done.stderr.strip()[-1500:]}"
    return ""


def node_versions() -> dict[str, str]:
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    packages = lock.get("packages", {})
    out = {
        name: packages.get(f"node_modules/{name}", {}).get("version", "?")
        for name in ("@hyperledger/fabric-gateway", "@grpc/grpc-js")
    }
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    out["node"] = node.stdout.strip()
    return out


def _single(directory: Path, patterns: tuple[str, ...]) -> Path:
    for pattern in patterns:
        found = sorted(directory.glob(pattern))
        if len(found) == 1:
            return found[0]
    raise FileNotFoundError(f"no single {patterns} in {directory}")


def run_node(
    profile: ConnectionProfile, warmup: Path, work: list[tuple[Case, Path]], tmp: Path
) -> list[tuple[int, float, list[float]]]:
    config = {
        "endpoint": profile.peer_endpoint,
        "serverNameOverride": profile.server_name_override or "",
        "tlsRootCertPath": str(profile.tls_root_cert_path),
        "mspId": profile.msp_id,
        "certPath": str(_single(profile.msp_dir / "signcerts", ("*.pem",))),
        "keyPath": str(_single(profile.msp_dir / "keystore", ("priv_sk", "*_sk"))),
        "channel": "medchain",
        "chaincode": "medchain",
        "contract": "consent",
        "warmupFile": str(warmup),
        "cases": [
            {
                "name": c.name,
                "function": c.function,
                "payloadFile": str(p),
                "concurrency": c.concurrency,
            }
            for c, p in work
        ],
    }
    config_path = tmp / f"node-{secrets.token_hex(4)}.json"
    config_path.write_text(json.dumps(config))
    done = subprocess.run(
        ["node", str(NODE_DIR / "submit.js"), str(config_path)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"node submit.js exited {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return [(c["transactions"], c["seconds"], c["latencies_ms"]) for c in result["cases"]]


# -- the benchmark -------------------------------------------------------------------------------


def _measure(
    network: FabricNetwork, quick: bool, tmp: Path
) -> tuple[list[dict[str, Any]], list[str]]:
    profile = network.connection_profile("h1")
    org = profile.msp_id
    node_error = ensure_node_client()
    plan = cases(quick)
    medchain = {c.name: Measured() for c in plan}
    node = {c.name: Measured() for c in plan}
    orders = [("medchain", "node")] if quick else [("medchain", "node"), ("node", "medchain")]
    notes: list[str] = []
    for repetition, order in enumerate(orders):
        for client in order:
            if client == "node" and node_error:
                continue
            work = []
            for i, case in enumerate(plan):
                path = tmp / f"{client}-{repetition}-{i}.lines"
                write_payloads(path, case, org)
                work.append((case, path))
            warmup = tmp / f"{client}-{repetition}-warmup.lines"
            write_payloads(warmup, Case("warmup", "Record", 1, 1, 1), org)
            if client == "medchain":
                measured = run_medchain(profile, warmup, work)
                target = medchain
            else:
                try:
                    measured = run_node(profile, warmup, work, tmp)
                except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
                    node_error = str(exc)
                    continue
                target = node
            for (case, _), (count, seconds, latencies) in zip(work, measured, strict=True):
                target[case.name].add(count, seconds, latencies)
    rows = []
    for case in plan:
        m, n = medchain[case.name], node[case.name]
        m_tps = m.transactions / m.seconds
        n_tps = n.transactions / n.seconds if n.seconds else None
        rows.append(
            {
                "case": case.name,
                "tx_per_client": m.transactions,
                "medchain_tx_per_s": round(m_tps, 2),
                "node_tx_per_s": round(n_tps, 2) if n_tps else "n/a",
                "ratio_medchain_to_node": round(m_tps / n_tps, 3) if n_tps else "n/a",
                "medchain_consents_per_s": round(m_tps * case.consents_per_tx, 1),
                "node_consents_per_s": round(n_tps * case.consents_per_tx, 1) if n_tps else "n/a",
                "medchain_p50_p95_ms": _p50_p95(m.latencies_ms),
                "node_p50_p95_ms": _p50_p95(n.latencies_ms),
            }
        )
    if node_error:
        notes.append(f"Node client not measured: {node_error}")
    return rows, notes


def _p50_p95(latencies: list[float] | None) -> str:
    if not latencies:
        return "n/a"
    return f"{percentile(latencies, 50):.1f} / {percentile(latencies, 95):.1f}"


def run(quick: bool) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="medchain-bench-ledger-") as tmp,
        running_network() as network,
    ):
        rows, notes = _measure(network, quick, Path(tmp))
    ratios = [
        r["ratio_medchain_to_node"] for r in rows if isinstance(r["ratio_medchain_to_node"], float)
    ]
    versions = node_versions() if not any("not measured" in n for n in notes) else {}
    if ratios:
        worst = min(ratios)
        verdict = "met" if worst >= GOAL_RATIO else "NOT met"
        notes.insert(
            0,
            f"goal: medchain.ledger throughput >= {GOAL_RATIO} x the Node client's in every case: "
            f"{verdict} (lowest ratio {worst:.3f})",
        )
    notes += [
        "Node client: " + ", ".join(f"{k} {v}" for k, v in versions.items()) if versions else "",
        "the package asks for node >= 22.12 (engines); it installed and ran on this node",
        "3 hospitals, MAJORITY endorsement, 3 Raft orderers, BatchTimeout 250ms; identity User1 of "
        "h1, its peer's Gateway; same deadlines (endorse 30 s, submit 10 s, commit status 60 s)",
        "latency = submit call until the commit status is seen by the client; p50 / p95 in ms",
        "full mode: each case twice (medchain then node, node then medchain), figures pooled; "
        "one warm-up submit per client before timing",
    ]
    return {
        "title": "Ledger submits: medchain.ledger vs the official Node client (fabric-gateway)",
        "rows": rows,
        "notes": [n for n in notes if n],
    }
