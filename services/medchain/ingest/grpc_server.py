"""The trainer-facing gRPC servicer: thin; calls the service, maps domain errors to codes once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import grpc

from medchain.common import serde
from medchain.common.errors import MedChainError
from medchain.ingest.errors import (
    IdentifierConflictError,
    IngestError,
    InvalidContentError,
    PayloadTooLargeError,
    ResourceNotFoundError,
    UnknownPseudonymError,
    UnparseableBodyError,
)
from medchain.ingest.features import FeatureSpec, batches
from medchain.ingest.service import IngestService
from medchain.v1 import ingest_pb2, ingest_pb2_grpc

_CODES: tuple[tuple[type[IngestError], grpc.StatusCode], ...] = (
    (UnparseableBodyError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidContentError, grpc.StatusCode.INVALID_ARGUMENT),
    (PayloadTooLargeError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ResourceNotFoundError, grpc.StatusCode.NOT_FOUND),
    (UnknownPseudonymError, grpc.StatusCode.NOT_FOUND),
    (IdentifierConflictError, grpc.StatusCode.ALREADY_EXISTS),
)


def status_code(exc: MedChainError) -> grpc.StatusCode:
    """The gRPC status of a domain error (INTERNAL for one without a mapping)."""
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return grpc.StatusCode.INTERNAL


@contextmanager
def _domain_errors(context: grpc.ServicerContext) -> Iterator[None]:
    try:
        yield
    except MedChainError as exc:
        _abort(context, status_code(exc), exc.message)
    except ValueError as exc:  # a malformed field of the request (e.g. reference_date)
        _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("context.abort returned")  # grpc raises; this keeps NoReturn honest


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):  # type: ignore[misc]
    """Cohorts and feature rows for the local trainer."""

    def __init__(self, service: IngestService) -> None:
        self.service = service

    def _spec(self, request: Any) -> FeatureSpec:
        if request.HasField("spec"):
            return serde.feature_spec_from_proto(request.spec)
        return self.service.settings.feature_spec()

    def list_cohort(self, request: Any, context: grpc.ServicerContext) -> Any:
        with _domain_errors(context):
            spec = self._spec(request)
            pseudonyms = self.service.cohort(spec)
        return ingest_pb2.CohortResponse(
            pseudonyms=pseudonyms, columns=list(spec.columns), label=spec.label.name
        )

    def stream_features(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        with _domain_errors(context):
            spec = self._spec(request)
            rows = self.service.feature_rows(spec, list(request.pseudonyms))
        size = request.batch_size or self.service.settings.feature_batch_size
        for batch in batches(rows, spec, size):
            yield serde.feature_batch_to_proto(batch)

    # the names protoc gives the RPCs, bound to the snake_case methods above
    ListCohort = list_cohort
    StreamFeatures = stream_features
