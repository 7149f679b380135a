"""Request-scoped dependencies of the ingest routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from medchain.ingest.errors import PayloadTooLargeError
from medchain.ingest.service import IngestService


def ingest_service(request: Request) -> IngestService:
    """The service the app was built with."""
    service: IngestService = request.app.state.ingest
    return service


ServiceDep = Annotated[IngestService, Depends(ingest_service)]


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it outgrows `limit` (never fully buffered)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
