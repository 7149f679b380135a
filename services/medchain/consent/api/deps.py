"""Request-scoped dependencies of the consent routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from medchain.common.auth import Caller, bearer_scheme
from medchain.common.http import read_limited_body
from medchain.consent.errors import PayloadTooLargeError
from medchain.consent.service import ConsentService


def consent_service(request: Request) -> ConsentService:
    """The service the app was built with."""
    service: ConsentService = request.app.state.consent
    return service


def authenticated_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """The caller of this hospital's API key (401 or 403 otherwise; see common.auth)."""
    caller: Caller = request.app.state.authenticate(credentials)
    return caller


ServiceDep = Annotated[ConsentService, Depends(consent_service)]
CallerDep = Annotated[Caller, Depends(authenticated_caller)]


async def read_body(request: Request, service: ConsentService) -> bytes:
    """The body, refused with 413 beyond the configured size."""
    return await read_limited_body(request, service.settings.max_body_bytes, PayloadTooLargeError)
