"""A MedChain federation in this process on a real Fabric network, for benchmarks and tests.

Used by the benchmarks and by tests/integration/training/conftest.py, for any number of
hospitals and any demo table: per hospital a real ingest (the table posted as FHIR transaction
bundles, gRPC out with mutual TLS) and a real trainer (gRPC, mutual TLS, its own Gateway
identity), and an aggregator that calls the trainers over gRPC and endorses every round on the
ledger. Consents are recorded on the ledger in 1,000-consent `RecordBatch` transactions.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
import numpy as np
from fastapi.testclient import TestClient
from pydantic import SecretStr

from medchain.aggregator.app import create_service as create_aggregator
from medchain.aggregator.service import AggregatorService
from medchain.aggregator.settings import AggregatorSettings
from medchain.aggregator.trainers import GrpcTrainerClient, TrainerClient
from medchain.common.auth import ApiKeyFile
from medchain.common.datasets import Dataset, IndexArray
from medchain.common.studies import StudySpec
from medchain.common.tls import write_service_tls
from medchain.demo.tables import IDENTIFIER_SYSTEM, TableCoding, patient_id
from medchain.ingest.app import build_grpc_server as build_ingest_grpc
from medchain.ingest.app import build_http_app as build_ingest_http
from medchain.ingest.app import create_service as create_ingest
from medchain.ingest.pseudonyms import Pseudonymizer
from medchain.ingest.settings import IngestSettings
from medchain.ledger import ConsentInput, ConsentLedger, EndorseError, Gateway, connect
from medchain.network.fabric_network import FabricNetwork
from medchain.trainer.app import build_grpc_server as build_trainer_grpc
from medchain.trainer.app import create_service as create_trainer
from medchain.trainer.service import TrainerService, standardised
from medchain.trainer.settings import TrainerSettings

T = TypeVar("T")
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
BUNDLE_PATIENTS = 40
CONSENT_BATCH = 1000


def until_endorsable(call: Callable[[], T], timeout: float = 60.0) -> T:
    """Retry while the Gateway's discovery has not yet learnt the other orgs' peers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except EndorseError as exc:
            if "no combination of peers" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@dataclass
class Hospital:
    name: str
    secret: str
    trainer: TrainerService
    trainer_address: str
    rows: list[int]
    consents: ConsentLedger

    def pseudonym(self, row: int) -> str:
        return Pseudonymizer(SecretStr(self.secret))(IDENTIFIER_SYSTEM, patient_id(self.name, row))


@dataclass
class Federation:
    hospitals: dict[str, Hospital]
    root: Path
    network: FabricNetwork
    gateways: list[Gateway] = field(default_factory=list)
    servers: list[grpc.Server] = field(default_factory=list)

    @property
    def orgs(self) -> list[str]:
        return list(self.hospitals)

    def trainer_clients(self) -> dict[str, TrainerClient]:
        layout = self.network.layout
        files = write_service_tls(
            self.root / "tls" / "aggregator",
            "aggregator",
            layout.tls_ca(self.orgs[0]),
            layout.tls_ca(self.orgs[0]).parent / "priv_sk",
            [layout.tls_ca(o) for o in self.orgs],
        )
        return {
            f"{h.name}MSP": GrpcTrainerClient(f"{h.name}MSP", h.trainer_address, files)
            for h in self.hospitals.values()
        }

    def aggregator(
        self, home: Path, clients: dict[str, TrainerClient] | None = None
    ) -> AggregatorService:
        """An aggregator as the first hospital's coordinator (User2), calling `clients`."""
        home.mkdir(parents=True, exist_ok=True)
        settings = AggregatorSettings(home=home, database_url=f"sqlite:///{home / 'agg.sqlite3'}")
        gateway = connect(self.network.connection_profile(self.orgs[0], "User2"))
        self.gateways.append(gateway)
        return create_aggregator(settings, gateway, clients or self.trainer_clients())

    def consent_all(self, study_id: str, decision: str = "permit") -> None:
        """Every patient of every hospital decides about the study, 1,000 consents a transaction."""
        for hospital in self.hospitals.values():
            items = [
                ConsentInput(
                    pseudonym=hospital.pseudonym(row),
                    org=f"{hospital.name}MSP",
                    study=study_id,
                    decision=decision,
                    valid_from=EPOCH,
                    valid_until=None,
                    document_hash=secrets.token_hex(32),
                )
                for row in hospital.rows
            ]
            for start in range(0, len(items), CONSENT_BATCH):
                chunk = items[start : start + CONSENT_BATCH]

                def record(
                    ledger: ConsentLedger = hospital.consents,
                    chunk: list[ConsentInput] = chunk,
                ) -> object:
                    return ledger.record_batch(chunk)

                until_endorsable(record)


@contextmanager
def federation(
    network: FabricNetwork,
    root: Path,
    data: Dataset,
    coding: TableCoding,
    parts: list[IndexArray],
) -> Iterator[Federation]:
    """Ingest and trainer services of every hospital of `network`, fed with its part of `data`."""
    orgs = network.layout.orgs
    if len(orgs) != len(parts):
        raise ValueError(f"{len(parts)} parts for {len(orgs)} hospitals")
    keys = ApiKeyFile(root / "api-keys.json")
    fed = Federation({}, root, network)
    layout = network.layout
    trusted = [layout.tls_ca(o) for o in orgs]
    try:
        for name, rows in zip(orgs, parts, strict=True):
            secret = f"{name}-bench-secret-0123456789"
            tls = write_service_tls(
                root / "tls" / name,
                name,
                layout.tls_ca(name),
                layout.tls_ca(name).parent / "priv_sk",
                trusted,
            )
            ingest = create_ingest(
                IngestSettings(
                    home=root,
                    hospital_id=name,
                    database_url=f"sqlite:///{root / f'{name}-ingest.sqlite3'}",
                    secret_key=SecretStr(secret),
                    local_code_systems=frozenset({coding.local_system}),
                    tls_cert=tls.cert,
                    tls_key=tls.key,
                    tls_trusted_cas=tls.trusted_cas,
                )
            )
            ingest_server, ingest_port = build_ingest_grpc(ingest, port=0)
            ingest_server.start()
            fed.servers.append(ingest_server)
            issued = keys.issue(name, "bench")
            http = TestClient(build_ingest_http(ingest, keys))
            for start in range(0, len(rows), BUNDLE_PATIENTS):
                chunk = [int(r) for r in rows[start : start + BUNDLE_PATIENTS]]
                response = http.post(
                    "/fhir",
                    json=coding.patient_bundle(data, chunk, name),
                    headers={"Authorization": f"Bearer {issued.token}"},
                )
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: ingest answered {response.status_code}")
            settings = TrainerSettings(
                home=root,
                hospital_id=name,
                database_url=f"sqlite:///{root / f'{name}-trainer.sqlite3'}",
                ingest_address=f"127.0.0.1:{ingest_port}",
                tls_cert=tls.cert,
                tls_key=tls.key,
                tls_trusted_cas=tls.trusted_cas,
            )
            gateway = connect(network.connection_profile(name))
            fed.gateways.append(gateway)
            trainer = create_trainer(settings, gateway)
            trainer_server, trainer_port = build_trainer_grpc(trainer, settings, port=0)
            trainer_server.start()
            fed.servers.append(trainer_server)
            fed.hospitals[name] = Hospital(
                name,
                secret,
                trainer,
                f"127.0.0.1:{trainer_port}",
                [int(r) for r in rows],
                ConsentLedger.for_network(gateway.get_network("medchain")),
            )
        yield fed
    finally:
        for server in fed.servers:
            server.stop(None)
        for gateway in fed.gateways:
            gateway.close()


@dataclass(frozen=True)
class SiteSplit:
    """One hospital's rows exactly as its trainer uses them (consented, split, in cohort order)."""

    hospital: str
    org_number: int
    train_raw: np.ndarray
    train_x: np.ndarray
    train_y: np.ndarray
    holdout_raw: np.ndarray
    holdout_x: np.ndarray
    holdout_y: np.ndarray


def site_splits(fed: Federation, spec: StudySpec) -> list[SiteSplit]:
    """Read back every trainer's training and held-out rows for a resolved study spec."""
    out = []
    for hospital in fed.hospitals.values():
        trainer = hospital.trainer
        split = trainer.split(spec)
        train = trainer.cohort.rows(spec.features, split.train)
        held = trainer.cohort.rows(spec.features, split.holdout)
        out.append(
            SiteSplit(
                hospital.name,
                int("".join(ch for ch in hospital.name if ch.isdigit()) or 0),
                train.features,
                standardised(spec, train),
                train.labels,
                held.features,
                standardised(spec, held),
                held.labels,
            )
        )
    return out
