"""Builds the consent service from settings: database, ledger, FastAPI app, gRPC server, serving."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
from medchain.common.errors import (
    ConflictError,
    MedChainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from medchain.common.fhir import IssueType, error, fhir_error_response
from medchain.common.http import install_operational_routes
from medchain.common.logging import configure_logging, get_logger
from medchain.common.tls import server_credentials
from medchain.consent import api, migrations
from medchain.consent.backoff import Backoff
from medchain.consent.cache import PermissionCache
from medchain.consent.errors import (
    ChangeRejectedError,
    ConsentError,
    ConsentNotFoundError,
    InvalidConsentError,
    PayloadTooLargeError,
    UnparseableBodyError,
)
from medchain.consent.follower import EventFollower
from medchain.consent.grpc_server import ConsentServicer
from medchain.consent.ledger_access import FabricLedgerAccess, LedgerAccess
from medchain.consent.metrics import ConsentCollector
from medchain.consent.outbox import Outbox, OutboxConfig, utc_now
from medchain.consent.service import ConsentService
from medchain.consent.settings import ConsentSettings
from medchain.consent.store import ConsentStore
from medchain.consent.waiters import CommitWaiters
from medchain.ledger import connect
from medchain.v1 import consent_pb2, consent_pb2_grpc

SERVICE_NAME = "consent"
#: gRPC message limit: a FilterPermitted request of 100,000 pseudonyms is about 6.6 MB.
MAX_GRPC_MESSAGE = 16 * 1024 * 1024
_HTTP_STATUS: tuple[tuple[type[MedChainError], int], ...] = (
    (AuthenticationError, 401),
    (WrongHospitalError, 403),
    (UnparseableBodyError, 400),
    (InvalidConsentError, 422),
    (PayloadTooLargeError, 413),
    (ConsentNotFoundError, 404),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ValidationError, 422),
    (UnavailableError, 503),
)
log = get_logger(__name__)


def http_status(exc: MedChainError) -> int:
    """The HTTP status of a domain or ledger error (500 for one without a mapping)."""
    if isinstance(exc, ChangeRejectedError):
        return exc.status
    return next((status for kind, status in _HTTP_STATUS if isinstance(exc, kind)), 500)


def _larger_wal_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    # A batch of 1,000 changes writes a few hundred pages; checkpointing every 10,000 pages
    # rather than SQLite's 1,000 syncs the database file ten times less often (as ingest does).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def create_service(
    settings: ConsentSettings,
    ledger: LedgerAccess | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
) -> ConsentService:
    """Open the database (schema to head) and the ledger, and wire the service; `start()` it."""
    engine = make_engine(settings.database())
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _larger_wal_checkpoints)
    migrations.upgrade(engine)
    sessions = make_session_factory(engine)
    closers: list[Callable[[], None]] = []
    if ledger is None:
        gateway = connect(settings.connection_profile(), settings.deadlines())
        closers.append(gateway.close)
        ledger = FabricLedgerAccess(gateway, settings.channel, settings.chaincode)
    closers.append(engine.dispose)
    store = ConsentStore()
    cache = PermissionCache(store, sessions)
    waiters = CommitWaiters()
    config = OutboxConfig(
        batch_size=settings.batch_size,
        linger=settings.batch_linger_seconds,
        max_inflight=settings.max_inflight_batches,
        doubt_checks=settings.doubt_checks,
        doubt_grace=settings.ledger_commit_seconds,
    )

    def backoff() -> Backoff:
        return Backoff(settings.retry_initial_backoff_seconds, settings.retry_max_backoff_seconds)

    outbox = Outbox(store, sessions, ledger, cache, waiters, config, backoff(), clock)
    follower = EventFollower(
        cache, ledger, settings.msp_id, backoff(), outbox.carries, settings.ledger_commit_seconds
    )
    return ConsentService(
        settings, sessions, ledger, outbox, cache, follower, waiters, clock, closers
    )


def build_http_app(service: ConsentService, keys: ApiKeyFile | None = None) -> FastAPI:
    """The FastAPI app; every route requires a bearer API key of this hospital."""
    settings = service.settings
    keys = keys or ApiKeyFile(keys_file(settings.home))
    authenticate: api.deps.Authenticator = require_api_key(keys, settings.hospital_id)
    app = FastAPI(
        title=f"MedChain consent ({settings.hospital_id})",
        summary="Patient consent in (FHIR R4 Consent or compact JSON), recorded on the ledger.",
        description="See docs/consent.md.",
        version="1.0.0",
        dependencies=[Depends(api.deps.authenticated_caller)],
    )
    app.state.consent = service
    app.state.authenticate = authenticate

    @app.exception_handler(MedChainError)
    async def domain_error(_request: Request, exc: MedChainError) -> Response:
        status = http_status(exc)
        if isinstance(exc, ConsentError):
            issues = list(exc.issues)
        else:
            kind = IssueType.SECURITY if status in (401, 403) else IssueType.EXCEPTION
            issues = [error(kind, str(exc))]
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

    async def outbox_running() -> bool:
        return service.outbox.alive

    async def events_followed() -> bool:
        return service.follower.live

    registry = install_operational_routes(
        app,
        service=SERVICE_NAME,
        checks={
            "database": database_reachable,
            "outbox": outbox_running,
            "ledger_events": events_followed,
        },
    )
    registry.register(ConsentCollector(service))
    app.include_router(api.router())
    return app


def build_grpc_server(
    service: ConsentService, port: int | None = None, max_workers: int = 8
) -> tuple[grpc.Server, int]:
    """The gRPC server with the consent servicer and the standard health service, bound but not
    started; returns it with the bound port (pass port 0 for any free one). mTLS when the
    settings name certificate files."""
    settings = service.settings
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        options=[
            ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE),
            ("grpc.max_send_message_length", MAX_GRPC_MESSAGE),
        ],
    )
    consent_pb2_grpc.add_ConsentServiceServicer_to_server(ConsentServicer(service), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    name = consent_pb2.DESCRIPTOR.services_by_name["ConsentService"].full_name
    for served in ("", name):
        health_servicer.set(served, health_pb2.HealthCheckResponse.SERVING)
    address = f"{settings.grpc_host}:{settings.grpc_port if port is None else port}"
    tls = settings.tls
    if tls is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, server_credentials(tls))
    if bound == 0:
        raise MedChainError(f"cannot bind gRPC on {address}")
    return server, bound


def serve(settings: ConsentSettings) -> None:
    """Serve HTTP and gRPC until interrupted; the outbox drains running jobs on the way out."""
    configure_logging(settings.log_level, settings.log_json)
    service = create_service(settings)
    service.start()
    server, grpc_port = build_grpc_server(service)
    server.start()
    log.info(
        "consent serving",
        hospital=settings.hospital_id,
        org=settings.msp_id,
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
        service.stop()
