"""Consent changes committed per second through the consent REST API, next to raw ledger submits.

One run brings up a fresh 3-hospital network and starts hospital h1's consent service as its own
process (`python -m medchain.consent`, SQLite, default outbox settings). The same batches of
1,000 consents (same patients, decisions and periods; a different study key per path, so every
write is a first version) go once through `POST /consents`, each request waiting for its 201, and
once straight to `ConsentLedger.record_batch`, alternating the two so both see the same machine:
one client against one transaction in flight, two against two, and four clients (enough to keep
the outbox's two transactions busy while requests are being accepted) against two. Single-change
latency is measured the same way, one change per request (compact and FHIR) or per transaction
(raw).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from medchain.common.auth import ApiKeyFile
from medchain.common.hashing import digest
from medchain.consent.compact import ConsentItemIn
from medchain.ingest.pseudonyms import Pseudonymizer
from medchain.ledger import ConsentInput, ConsentLedger, EndorseError, connect
from medchain.network.binaries import ensure_fabric
from medchain.network.config import NetworkSettings
from medchain.network.fabric_network import FabricNetwork

#: Away from the other benchmarks' 27000 so a concurrent run of those does not collide.
BASE_PORT = 27300
SECRET = "bench-secret-of-hospital-h1"
MRN = "urn:oid:2.16.840.1.113883.19.5"
BATCH = 1000
#: The service's default `MAX_INFLIGHT_BATCHES`.
INFLIGHT = 2


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ConsentProcess:
    """h1's consent service in its own process, and an HTTP client holding its API key."""

    def __init__(self, network: FabricNetwork, home: Path) -> None:
        profile = home / "h1-User1.json"
        profile.write_text(network.connection_profile("h1").model_dump_json())
        token = ApiKeyFile(home / "api-keys.json").issue("h1", "bench").token
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDCHAIN_")}
        env.update(
            MEDCHAIN_HOME=str(home),
            MEDCHAIN_ENVIRONMENT="test",
            MEDCHAIN_SECRET_KEY=SECRET,
            MEDCHAIN_LOG_LEVEL="WARNING",
            MEDCHAIN_CONSENT_HOSPITAL_ID="h1",
            MEDCHAIN_CONSENT_LEDGER_PROFILE=str(profile),
            MEDCHAIN_CONSENT_HTTP_PORT=str(port),
            MEDCHAIN_CONSENT_GRPC_PORT=str(_free_port()),
            MEDCHAIN_CONSENT_COMMIT_DEADLINE_SECONDS="120",
        )
        self.log = (home / "consent.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "medchain.consent"], env=env, stdout=self.log, stderr=self.log
        )
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"consent service exited with {self.process.returncode}")
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.3)
        raise RuntimeError("consent service not healthy in time")

    def post(self, path: str, body: dict[str, Any]) -> float:
        """Seconds until the 201 (anything else is an error)."""
        started = time.perf_counter()
        response = self.http.post(path, json=body)
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
        return elapsed

    def close(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def _items(run: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "patient": {"system": MRN, "value": f"{run}-{i}"},
            "decision": "permit" if i % 5 else "deny",
            "period": {"start": "2024-01-01", "end": "2028-12-31"},
        }
        for i in range(count)
    ]


def _raw_inputs(items: list[dict[str, Any]], study: str) -> list[ConsentInput]:
    """The ConsentInputs the service would write for these items, under `study`."""
    pseudonymize = Pseudonymizer(SecretStr(SECRET))
    inputs = []
    for item in items:
        parsed = ConsentItemIn.model_validate({**item, "study": study})
        validity = parsed.validity()
        inputs.append(
            ConsentInput(
                pseudonym=pseudonymize(MRN, item["patient"]["value"]),
                org="h1MSP",
                study=study,
                decision=parsed.decision,
                valid_from=validity.start or dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
                valid_until=validity.end,
                document_hash=digest(parsed.model_dump(mode="json", exclude_none=True)),
            )
        )
    return inputs


def _timed(calls: list[Callable[[], object]], concurrency: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()
    return time.perf_counter() - started


def _row(
    measure: str,
    path: str,
    clients: int,
    in_flight: int,
    batch_size: int,
    count: int,
    **figures: float,
) -> dict[str, Any]:
    """One report row; every row has every column (the report takes them from the first)."""
    row: dict[str, Any] = {
        "measure": measure,
        "path": path,
        "clients": clients,
        "tx_in_flight": in_flight,
        "batch_size": batch_size,
        "requests": count,
    }
    for name in ("changes_per_s", "ratio_to_raw", "p50_ms", "p95_ms"):
        row[name] = figures.get(name, "-")
    return row  # fmt: skip


def _throughput(
    service: ConsentProcess,
    ledger: ConsentLedger,
    batches: int,
    raw_in_flight: int,
    rest_clients: int,
    run: str,
) -> list[dict[str, Any]]:
    """The same batches through both paths; raw keeps `raw_in_flight` transactions in flight,
    REST has `rest_clients` clients each waiting for its 201 (the outbox keeps 2 in flight)."""
    tag = f"{run}-r{raw_in_flight}-c{rest_clients}"
    batch_items = [_items(f"{tag}-b{b}", BATCH) for b in range(batches)]
    rest_calls: list[Callable[[], object]] = [
        partial(service.post, "/consents", {"consents": [{**i, "study": f"rest-{tag}"}
                                                          for i in items]})
        for items in batch_items
    ]  # fmt: skip
    raw_calls: list[Callable[[], object]] = [
        partial(ledger.record_batch, _raw_inputs(items, f"raw-{tag}")) for items in batch_items
    ]
    # Alternate halves so neither path always runs on a warmer or busier machine.
    half = batches // 2
    rest_time = raw_time = 0.0
    for part in (slice(0, half), slice(half, batches)):
        raw_time += _timed(raw_calls[part], raw_in_flight)
        rest_time += _timed(rest_calls[part], rest_clients)
    changes = batches * BATCH
    raw_rate, rest_rate = changes / raw_time, changes / rest_time
    rest_in_flight = min(rest_clients, INFLIGHT)
    return [
        _row("throughput", "raw ConsentLedger.record_batch", raw_in_flight, raw_in_flight, BATCH,
             batches, changes_per_s=round(raw_rate, 1), ratio_to_raw=1.0),
        _row("throughput", "REST POST /consents (201)", rest_clients, rest_in_flight, BATCH,
             batches, changes_per_s=round(rest_rate, 1),
             ratio_to_raw=round(rest_rate / raw_rate, 3)),
    ]  # fmt: skip


def _latency(label: str, call: Callable[[int], object], count: int) -> dict[str, Any]:
    samples = []
    for i in range(count):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return _row(
        "single-change latency",
        label,
        1,
        1,
        1,
        count,
        p50_ms=round(percentile(samples, 50) * 1000, 1),
        p95_ms=round(percentile(samples, 95) * 1000, 1),
    )


def _fhir_consent(mrn: str) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "research"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "57016-8"}]}],
        "patient": {"identifier": {"system": MRN, "value": mrn}},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                   "code": "OPTIN"}]},
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/workflow-researchStudy",
                       "valueReference": {"reference": "ResearchStudy/bench-fhir"}}],
        "provision": {"type": "permit", "period": {"start": "2024-01-01"}},
    }  # fmt: skip


def _warm_up(service: ConsentProcess, ledger: ConsentLedger) -> None:
    """First calls: discovery learns the other peers, connections and caches warm up."""
    deadline = time.monotonic() + 60
    while True:
        try:
            ledger.record_batch(_raw_inputs(_items("warm-raw", 10), "warm"))
            break
        except EndorseError as exc:
            if "no combination of peers" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    service.post("/consents", {"consents": [{**i, "study": "warm"} for i in _items("warm", BATCH)]})


def _measure(network: FabricNetwork, home: Path, quick: bool) -> list[dict[str, Any]]:
    service = ConsentProcess(network, home)
    gateway = connect(network.connection_profile("h1"))
    try:
        ledger = ConsentLedger.for_network(gateway.get_network("medchain"), retry=None)
        _warm_up(service, ledger)
        run = time.strftime("%H%M%S")
        batches = 8 if quick else 20
        rows = []
        for raw_in_flight, rest_clients in ((1, 1), (2, 2), (2, 4)):
            rows += _throughput(service, ledger, batches, raw_in_flight, rest_clients, run)
        count = 40 if quick else 100
        single = _items(f"{run}-single", count)
        rows.append(
            _latency(
                "REST POST /consents, 1 change",
                lambda i: service.post(
                    "/consents", {"consents": [{**single[i], "study": f"single-{run}"}]}
                ),
                count,
            )
        )
        rows.append(
            _latency(
                "REST POST /fhir/Consent",
                lambda i: service.post("/fhir/Consent", _fhir_consent(f"{run}-fhir-{i}")),
                count,
            )
        )
        raw_single = _raw_inputs(single, f"raw-single-{run}")
        rows.append(_latency(
            "raw ConsentLedger.record", lambda i: ledger.record(raw_single[i]), count))  # fmt: skip
        return rows
    finally:
        gateway.close()
        service.close()


def run(quick: bool) -> dict[str, Any]:
    """Batches of 1,000 at concurrency 1 and 2 (8 batches each quick, 20 full), then latency."""
    ensure_fabric()
    with tempfile.TemporaryDirectory(prefix="medchain-bench-consent-") as tmp:
        settings = NetworkSettings(
            home=Path(tmp) / "fabric", hospitals=3, fabric_base_port=BASE_PORT
        )
        network = FabricNetwork(settings=settings, hospitals=3)
        try:
            network.up()
            home = Path(tmp) / "consent"
            home.mkdir()
            rows = _measure(network, home, quick)
        finally:
            network.clean()
    ratios = [r["ratio_to_raw"] for r in rows if r["path"].startswith("REST POST /consents (")]
    notes = [
        "goal: REST throughput in batches of 1,000 at least 0.9 of raw submits of the same "
        f"batches; measured {', '.join(f'{r:.2f}' for r in ratios)} (1 client vs 1 in flight, "
        "2 vs 2, and 4 clients, which keep the outbox's 2 transactions busy, vs 2 in flight)",
        "REST: each request validates, pseudonymizes and stores 1,000 consents, then waits for the "
        "outbox to commit them (RecordBatch) and answers 201; raw: record_batch of the same "
        "consents, no client-side MVCC retry, in the benchmark process",
        "the service runs as its own process with its defaults (SQLite, batch 1,000, linger "
        "20 ms, 2 batches in flight); network, service and client share the machine's cores",
    ]
    return {"title": "Consent service throughput and latency", "rows": rows, "notes": notes}
