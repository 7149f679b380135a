"""Builds the trainer from settings: ledger identity, data sources, gRPC server (mTLS), health."""

from __future__ import annotations

import threading
from concurrent import futures
from pathlib import Path

import grpc
import uvicorn
from fastapi import FastAPI
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from medchain.common.db import Base, make_engine, make_session_factory
from medchain.common.errors import ConfigurationError
from medchain.common.http import install_operational_routes
from medchain.common.logging import configure_logging, get_logger
from medchain.common.tls import server_credentials
from medchain.ledger import ConnectionProfile, ConsentLedger, Gateway, StudyLedger, connect
from medchain.trainer.consent_client import ConsentServiceGate
from medchain.trainer.datasource import ConsentGate, IngestCohortSource, LedgerConsentGate
from medchain.trainer.grpc_server import TrainerServicer
from medchain.trainer.service import TrainerService
from medchain.trainer.settings import TrainerSettings
from medchain.v1 import trainer_pb2, trainer_pb2_grpc

SERVICE_NAME = "trainer"
log = get_logger(__name__)


def load_profile(path: Path | None) -> ConnectionProfile:
    if path is None:
        raise ConfigurationError("MEDCHAIN_TRAINER_LEDGER_PROFILE is not set")
    return ConnectionProfile.model_validate_json(path.read_text())


def create_service(
    settings: TrainerSettings, gateway: Gateway, consent: ConsentGate | None = None
) -> TrainerService:
    """The trainer service over one ledger gateway and the hospital's data sources."""
    network = gateway.get_network(settings.channel)
    engine = make_engine(settings.database())
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["trainer_round_log"]])
    if consent is None:
        if settings.consent_address:
            consent = ConsentServiceGate(settings.consent_address, settings.tls)
        else:
            consent = LedgerConsentGate(ConsentLedger.for_network(network), settings.msp_id)
    return TrainerService(
        settings.msp_id,
        StudyLedger.for_network(network),
        IngestCohortSource(settings.ingest_address, settings.tls),
        consent,
        make_session_factory(engine),
    )


def build_grpc_server(
    service: TrainerService, settings: TrainerSettings, port: int | None = None
) -> tuple[grpc.Server, int]:
    """The gRPC server (mutual TLS when configured) with the health service; bound, not started."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    trainer_pb2_grpc.add_TrainerServicer_to_server(TrainerServicer(service), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    name = trainer_pb2.DESCRIPTOR.services_by_name["Trainer"].full_name
    for served in ("", name):
        health_servicer.set(served, health_pb2.HealthCheckResponse.SERVING)
    address = f"{settings.grpc_host}:{settings.grpc_port if port is None else port}"
    tls = settings.tls
    bound = (
        server.add_secure_port(address, server_credentials(tls))
        if tls
        else server.add_insecure_port(address)
    )
    if bound == 0:
        raise ConfigurationError(f"cannot bind gRPC on {address}")
    return server, bound


def build_http_app(service: TrainerService) -> FastAPI:
    """The trainer's small REST side: health, metrics and the round log summary."""
    app = FastAPI(title="MedChain trainer", version="1")

    async def ledger_reachable() -> bool:
        service.studies.list_studies()
        return True

    install_operational_routes(app, service=SERVICE_NAME, checks={"ledger": ledger_reachable})

    @app.get("/rounds/{study_id}", tags=["trainer"], summary="This hospital's round log")
    def rounds(study_id: str) -> list[dict[str, object]]:
        return [
            {
                "round": e.round,
                "cohort_size": len(e.cohort),
                "cohort_root": e.cohort_root,
                "update_hash": e.update_hash,
                "tx_id": e.tx_id,
                "block_number": e.block_number,
            }
            for e in service.round_log(study_id)
        ]

    return app


def serve(settings: TrainerSettings) -> None:
    """Serve gRPC and the health endpoint until interrupted."""
    configure_logging(settings.log_level, settings.log_json)
    with connect(load_profile(settings.ledger_profile)) as gateway:
        service = create_service(settings, gateway)
        server, port = build_grpc_server(service, settings)
        server.start()
        log.info("trainer serving", hospital=settings.hospital_id, grpc_port=port)
        stopped = threading.Event()
        try:
            uvicorn.run(
                build_http_app(service),
                host=settings.http_host,
                port=settings.http_port,
                log_config=None,
            )
        finally:
            stopped.set()
            server.stop(settings.grpc_grace_seconds).wait()
