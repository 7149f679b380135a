"""The trainer-facing gRPC servicer: thin; calls the service, maps domain errors to codes once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import grpc

from medchain.common import serde
from medchain.common.errors import (
    MedChainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from medchain.consent.errors import PayloadTooLargeError
from medchain.consent.service import ConsentService
from medchain.v1 import consent_pb2_grpc

#: Most pseudonyms one FilterPermitted request may carry.
MAX_FILTER = 100_000
_CODES: tuple[tuple[type[MedChainError], grpc.StatusCode], ...] = (
    (PayloadTooLargeError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ValidationError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
    (UnavailableError, grpc.StatusCode.UNAVAILABLE),
)


def status_code(exc: MedChainError) -> grpc.StatusCode:
    """The gRPC status of a domain or ledger error (INTERNAL for one without a mapping)."""
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return grpc.StatusCode.INTERNAL


@contextmanager
def _domain_errors(context: grpc.ServicerContext) -> Iterator[None]:
    try:
        yield
    except MedChainError as exc:
        _abort(context, status_code(exc), str(exc))


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("context.abort returned")  # grpc raises; this keeps NoReturn honest


class ConsentServicer(consent_pb2_grpc.ConsentServiceServicer):  # type: ignore[misc]
    """Which of the hospital's patients a study may use now, for the local trainer."""

    def __init__(self, service: ConsentService) -> None:
        self.service = service

    def filter_permitted(self, request: Any, context: grpc.ServicerContext) -> Any:
        with _domain_errors(context):
            query = serde.filter_query_from_proto(request)
            if len(query.pseudonyms) > MAX_FILTER:
                raise PayloadTooLargeError(
                    f"{len(query.pseudonyms)} pseudonyms exceed the limit of {MAX_FILTER}"
                )
            answer = self.service.filter_permitted(
                query.study, query.pseudonyms, query.from_ledger, query.min_block_height
            )
        return serde.filter_answer_to_proto(answer)

    # the name protoc gives the RPC, bound to the snake_case method above
    FilterPermitted = filter_permitted
