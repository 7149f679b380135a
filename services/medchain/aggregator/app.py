"""Builds the aggregator from settings: ledger identity, trainer clients, store, REST app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from medchain.aggregator import api
from medchain.aggregator.model_store import ModelStore
from medchain.aggregator.service import AggregatorService
from medchain.aggregator.settings import AggregatorSettings
from medchain.aggregator.store import RoundRecord, StudyRecord
from medchain.aggregator.trainers import GrpcTrainerClient, TrainerClient
from medchain.common.db import Base, make_engine, make_session_factory
from medchain.common.errors import (
    ConfigurationError,
    ConflictError,
    MedChainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from medchain.common.http import install_operational_routes
from medchain.common.logging import configure_logging, get_logger
from medchain.dashboard.app import mount as mount_dashboard
from medchain.ledger import ConnectionProfile, Gateway, StudyLedger, connect

SERVICE_NAME = "aggregator"
_HTTP_STATUS: tuple[tuple[type[MedChainError], int], ...] = (
    (ValidationError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (PermissionDeniedError, 403),
    (UnavailableError, 503),
)
log = get_logger(__name__)


def http_status(exc: MedChainError) -> int:
    return next((status for kind, status in _HTTP_STATUS if isinstance(exc, kind)), 500)


def create_service(
    settings: AggregatorSettings,
    gateway: Gateway,
    trainers: dict[str, TrainerClient] | None = None,
) -> AggregatorService:
    """The aggregator over one ledger gateway (the coordinator's identity) and the trainers."""
    engine = make_engine(settings.database())
    tables = [Base.metadata.tables[t.__tablename__] for t in (StudyRecord, RoundRecord)]
    Base.metadata.create_all(engine, tables=tables)
    clients: dict[str, TrainerClient] = (
        trainers
        if trainers is not None
        else {
            org: GrpcTrainerClient(org, address, settings.tls)
            for org, address in settings.trainers.items()
        }
    )
    network = gateway.get_network(settings.channel)
    return AggregatorService(
        StudyLedger.for_network(network),
        clients,
        make_session_factory(engine),
        ModelStore(settings.model_dir),
        call_timeout=settings.call_timeout,
    )


def build_http_app(service: AggregatorService, *, resume: bool = True) -> FastAPI:
    """The REST app; on start-up it resumes the studies that were running."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if resume:
            resumed = service.resume_running()
            if resumed:
                log.info("studies.resumed", studies=resumed)
        yield

    app = FastAPI(
        title="MedChain aggregator",
        version="1",
        description="Create and run federated studies; download models; audit their lineage.",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(MedChainError)
    async def domain_error(_request: Request, exc: MedChainError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=http_status(exc))

    async def database_reachable() -> bool:
        with service.sessions() as session:
            session.execute(text("SELECT 1"))
        return True

    async def ledger_reachable() -> bool:
        service.ledger.list_studies()
        return True

    install_operational_routes(
        app,
        service=SERVICE_NAME,
        checks={"database": database_reachable, "ledger": ledger_reachable},
    )
    app.include_router(api.router())
    mount_dashboard(app, service)
    return app


def serve(settings: AggregatorSettings) -> None:
    """Serve the REST API until interrupted."""
    configure_logging(settings.log_level, settings.log_json)
    if settings.ledger_profile is None:
        raise ConfigurationError("MEDCHAIN_AGGREGATOR_LEDGER_PROFILE is not set")
    profile = ConnectionProfile.model_validate_json(settings.ledger_profile.read_text())
    with connect(profile) as gateway:
        service = create_service(settings, gateway)
        uvicorn.run(
            build_http_app(service),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
        )
