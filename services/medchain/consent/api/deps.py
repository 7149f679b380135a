"""Request-scoped dependencies of the consent routes, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from medchain.common.auth import Caller, bearer_scheme
from medchain.common.http import read_limited_body
from medchain.consent.errors import PayloadTooLargeError
from medchain.consent.service import ConsentService

#: What `medchain.common.auth.require_api_key` builds: credentials in, the caller out.
Authenticator = Callable[[HTTPAuthorizationCredentials | None], Awaitable[Caller]]


# async although they never await I/O: a sync dependency costs each request a worker-thread hop
async def consent_service(request: Request) -> ConsentService:
    """The service the app was built with."""
    service: ConsentService = request.app.state.consent
    return service


async def authenticated_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """The caller of this hospital's API key (401 or 403 otherwise; see common.auth)."""
    authenticate: Authenticator = request.app.state.authenticate
    return await authenticate(credentials)


ServiceDep = Annotated[ConsentService, Depends(consent_service)]
CallerDep = Annotated[Caller, Depends(authenticated_caller)]


async def read_body(request: Request, service: ConsentService) -> bytes:
    """The body, refused with 413 beyond the configured size."""
    return await read_limited_body(request, service.settings.max_body_bytes, PayloadTooLargeError)
