"""Builds the ingest service from settings: database, FastAPI app, gRPC server, and serving both."""

from __future__ import annotations

from concurrent import futures
from typing import Any

import grpc
import uvicorn
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sqlalchemy import event, text

from medchain.common.auth import (
    ApiKeyFile,
    AuthenticationError,
    WrongHospitalError,
    keys_file,
    require_api_key,
)
from medchain.common.db import make_engine, make_session_factory
from medchain.common.errors import MedChainError
from medchain.common.fhir import IssueType, error, fhir_error_response
from medchain.common.http import install_operational_routes
from medchain.common.logging import configure_logging, get_logger
from medchain.common.tls import server_credentials
from medchain.ingest import api, migrations
from medchain.ingest.errors import (
    IdentifierConflictError,
    IngestError,
    InvalidContentError,
    PayloadTooLargeError,
    ResourceNotFoundError,
    UnknownPseudonymError,
    UnparseableBodyError,
)
from medchain.ingest.grpc_server import IngestServicer
from medchain.ingest.service import IngestService
from medchain.ingest.settings import IngestSettings
from medchain.v1 import ingest_pb2, ingest_pb2_grpc

SERVICE_NAME = "ingest"
_HTTP_STATUS: tuple[tuple[type[MedChainError], int], ...] = (
    (AuthenticationError, 401),
    (WrongHospitalError, 403),
    (UnparseableBodyError, 400),
    (InvalidContentError, 422),
    (PayloadTooLargeError, 413),
    (ResourceNotFoundError, 404),
    (UnknownPseudonymError, 404),
    (IdentifierConflictError, 409),
)
log = get_logger(__name__)


def http_status(exc: MedChainError) -> int:
    """The HTTP status of a domain error (500 for one without a mapping)."""
    return next((status for kind, status in _HTTP_STATUS if isinstance(exc, kind)), 500)


def _larger_wal_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    # Each bundle commits ~100 pages; checkpointing every 10,000 pages (40 MB) rather than
    # SQLite's 1,000 pays the checkpoint's sync ten times less often.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def create_service(settings: IngestSettings) -> IngestService:
    """Open the database, bring its schema to head, and build the service on it."""
    engine = make_engine(settings.database())
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _larger_wal_checkpoints)
    migrations.upgrade(engine)
    return IngestService(settings, make_session_factory(engine))


def build_http_app(service: IngestService, keys: ApiKeyFile | None = None) -> FastAPI:
    """The FastAPI app; every route requires a bearer API key of this hospital."""
    settings = service.settings
    keys = keys or ApiKeyFile(keys_file(settings.home))
    app = FastAPI(
        title=f"MedChain ingest ({settings.hospital_id})",
        summary="FHIR R4 in, pseudonymized per-patient features out.",
        version="1.0.0",
        dependencies=[Depends(require_api_key(keys, settings.hospital_id))],
    )
    app.state.ingest = service

    @app.exception_handler(MedChainError)
    async def domain_error(_request: Request, exc: MedChainError) -> Response:
        status = http_status(exc)
        issues = (
            list(exc.issues)
            if isinstance(exc, IngestError)
            else [
                error(
                    IssueType.SECURITY if status in (401, 403) else IssueType.EXCEPTION, exc.message
                )
            ]
        )
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return fhir_error_response(status, issues, headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> Response:
        issues = [
            error(IssueType.INVALID, str(e.get("msg")), ".".join(str(p) for p in e.get("loc", ())))
            for e in exc.errors()
        ]
        return fhir_error_response(422, issues)

    async def database_reachable() -> bool:
        with service.sessions() as session:
            session.execute(text("SELECT 1"))
        return True

    install_operational_routes(app, service=SERVICE_NAME, checks={"database": database_reachable})
    app.include_router(api.router())
    return app


def build_grpc_server(
    service: IngestService, port: int | None = None, max_workers: int = 8
) -> tuple[grpc.Server, int]:
    """The gRPC server with the ingest servicer and the standard health service, bound but not
    started; returns it with the bound port (pass port 0 for any free one)."""
    settings = service.settings
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
    ingest_pb2_grpc.add_IngestServiceServicer_to_server(IngestServicer(service), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    name = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name
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
        raise MedChainError(f"cannot bind gRPC on {settings.grpc_host}:{settings.grpc_port}")
    return server, bound


def serve(settings: IngestSettings) -> None:
    """Serve HTTP and gRPC until interrupted; gRPC stops with a grace period."""
    configure_logging(settings.log_level, settings.log_json)
    service = create_service(settings)
    server, grpc_port = build_grpc_server(service)
    server.start()
    log.info(
        "ingest serving",
        hospital=settings.hospital_id,
        grpc_port=grpc_port,
        http_port=settings.http_port,
    )
    try:
        uvicorn.run(
            build_http_app(service),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
        )
    finally:
        server.stop(settings.grpc_grace_seconds).wait()
