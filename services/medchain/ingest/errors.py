"""The ingest service's exceptions, mapped once to HTTP (api.py) and once to gRPC (grpc_server.py).

    IngestError (MedChainError)                   HTTP  gRPC
    ├── UnparseableBodyError     not JSON / FHIR   400   INVALID_ARGUMENT
    ├── InvalidContentError      breaks a rule     422   INVALID_ARGUMENT
    │   └── FeatureSpecError     unusable spec     422   INVALID_ARGUMENT
    ├── PayloadTooLargeError     beyond limits     413   RESOURCE_EXHAUSTED
    ├── ResourceNotFoundError    no such resource  404   NOT_FOUND
    ├── UnknownPseudonymError    not our patient   404   NOT_FOUND
    └── IdentifierConflictError  identifier taken  409   ALREADY_EXISTS

Errors that concern FHIR content carry OperationOutcome issues naming the entry and a FHIRPath.
"""

from __future__ import annotations

from collections.abc import Sequence

from medchain.common.errors import ConflictError, MedChainError, NotFoundError, ValidationError
from medchain.common.fhir import Issue, IssueType, error


class IngestError(MedChainError):
    """Base of every error the ingest service raises on purpose."""

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        super().__init__(message)
        self.issues: tuple[Issue, ...] = tuple(issues) or (error(self.issue_type, message),)

    issue_type = IssueType.PROCESSING


class UnparseableBodyError(IngestError, ValidationError):
    """The body is not JSON, or not a FHIR resource."""

    issue_type = IssueType.STRUCTURE


class InvalidContentError(IngestError, ValidationError):
    """Parsed, but breaks FHIR or a MedChain rule; `issues` say where."""

    issue_type = IssueType.INVALID


class FeatureSpecError(InvalidContentError):
    """A feature spec that cannot be pivoted."""

    def __init__(self, message: str, location: str) -> None:
        super().__init__(message, [error(IssueType.VALUE, message, location)])
        self.field = location


class PayloadTooLargeError(IngestError):
    """The body or its entry count is beyond the configured limits."""

    issue_type = IssueType.TOO_COSTLY


class ResourceNotFoundError(IngestError, NotFoundError):
    """No stored resource with that type and id."""

    issue_type = IssueType.NOT_FOUND


class UnknownPseudonymError(IngestError, NotFoundError):
    """A pseudonym that this hospital does not hold."""

    issue_type = IssueType.NOT_FOUND


class IdentifierConflictError(IngestError, ConflictError):
    """An identifier already held by another resource of the same type."""

    issue_type = IssueType.CONFLICT
