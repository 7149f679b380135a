"""A federation in-process on the real network: per hospital a real ingest (HTTP in, gRPC out) and
a real trainer (gRPC, mutual TLS), and an aggregator calling the trainers over gRPC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from medchain.aggregator.app import create_service as create_aggregator
from medchain.aggregator.service import AggregatorService
from medchain.aggregator.settings import AggregatorSettings
from medchain.aggregator.trainers import GrpcTrainerClient, TrainerClient
from medchain.common.auth import ApiKeyFile
from medchain.common.datasets import breast_cancer, non_iid_split
from medchain.common.tls import write_service_tls
from medchain.demo.tables import breast_cancer_coding
from medchain.ingest.app import build_grpc_server as build_ingest_grpc
from medchain.ingest.app import build_http_app as build_ingest_http
from medchain.ingest.app import create_service as create_ingest
from medchain.ingest.settings import IngestSettings
from medchain.ledger import ConsentLedger, Gateway, connect
from medchain.network.fabric_network import FabricNetwork
from medchain.trainer.app import build_grpc_server as build_trainer_grpc
from medchain.trainer.app import create_service as create_trainer
from medchain.trainer.service import TrainerService
from medchain.trainer.settings import TrainerSettings

HOSPITALS = ("h1", "h2", "h3")


@dataclass
class Hospital:
    name: str
    secret: str
    ingest_http: TestClient
    api_key: str
    trainer: TrainerService
    trainer_address: str
    rows: list[int]
    consents: ConsentLedger


@dataclass
class Federation:
    hospitals: dict[str, Hospital]
    tls_dir: Path
    network: FabricNetwork
    gateways: list[Gateway]
    servers: list[grpc.Server]

    def trainer_clients(self) -> dict[str, TrainerClient]:
        out: dict[str, TrainerClient] = {}
        for h in self.hospitals.values():
            files = write_service_tls(
                self.tls_dir / "aggregator",
                "aggregator",
                self.network.layout.tls_ca("h1"),
                self.network.layout.tls_ca("h1").parent / "priv_sk",
                [self.network.layout.tls_ca(o) for o in HOSPITALS],
            )
            out[f"{h.name}MSP"] = GrpcTrainerClient(f"{h.name}MSP", h.trainer_address, files)
        return out

    def aggregator(
        self, home: Path, clients: dict[str, TrainerClient] | None = None
    ) -> AggregatorService:
        settings = AggregatorSettings(home=home, database_url=f"sqlite:///{home / 'agg.sqlite3'}")
        gateway = connect(self.network.connection_profile("h1", "User2"))
        self.gateways.append(gateway)
        return create_aggregator(settings, gateway, clients or self.trainer_clients())


@pytest.fixture(scope="session")
def federation(
    fabric_network: FabricNetwork, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("federation")
    data = breast_cancer()
    coding = breast_cancer_coding(data.feature_names)
    parts = non_iid_split(data, len(HOSPITALS), alpha=0.8, seed=3, min_size=60)
    keys = ApiKeyFile(root / "api-keys.json")
    fed = Federation({}, root / "tls", fabric_network, [], [])
    layout = fabric_network.layout
    trusted = [layout.tls_ca(o) for o in HOSPITALS]
    for name, rows in zip(HOSPITALS, parts, strict=True):
        secret = f"{name}-integration-secret-0123456789"
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
        issued = keys.issue(name, "integration")
        http = TestClient(build_ingest_http(ingest, keys))
        for start in range(0, len(rows), 40):
            bundle = coding.patient_bundle(data, [int(r) for r in rows[start : start + 40]], name)
            response = http.post(
                "/fhir", json=bundle, headers={"Authorization": f"Bearer {issued.token}"}
            )
            assert response.status_code == 200, response.text
        settings = TrainerSettings(
            home=root,
            hospital_id=name,
            database_url=f"sqlite:///{root / f'{name}-trainer.sqlite3'}",
            ingest_address=f"127.0.0.1:{ingest_port}",
            tls_cert=tls.cert,
            tls_key=tls.key,
            tls_trusted_cas=tls.trusted_cas,
        )
        gateway = connect(fabric_network.connection_profile(name))
        fed.gateways.append(gateway)
        trainer = create_trainer(settings, gateway)
        trainer_server, trainer_port = build_trainer_grpc(trainer, settings, port=0)
        trainer_server.start()
        fed.servers += [ingest_server, trainer_server]
        fed.hospitals[name] = Hospital(
            name,
            secret,
            http,
            issued.token,
            trainer,
            f"127.0.0.1:{trainer_port}",
            [int(r) for r in rows],
            ConsentLedger.for_network(gateway.get_network("medchain")),
        )
    try:
        yield fed
    finally:
        for server in fed.servers:
            server.stop(None)
        for gateway in fed.gateways:
            gateway.close()
