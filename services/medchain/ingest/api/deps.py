"""Request-scoped dependencies of the ingest routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from medchain.common import http
from medchain.ingest.errors import PayloadTooLargeError
from medchain.ingest.service import IngestService


async def ingest_service(request: Request) -> IngestService:
    """The service the app was built with (async: no worker-thread hop for an attribute read)."""
    service: IngestService = request.app.state.ingest
    return service


ServiceDep = Annotated[IngestService, Depends(ingest_service)]


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it outgrows `limit` (never fully buffered)."""
    return await http.read_limited_body(request, limit, PayloadTooLargeError)
