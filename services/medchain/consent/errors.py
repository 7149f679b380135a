"""The consent service's exceptions, mapped once to HTTP (app.py) and once to gRPC (grpc_server.py).

    ConsentError (MedChainError)                         HTTP  gRPC
    ├── UnparseableBodyError    not JSON / not Consent    400   INVALID_ARGUMENT
    ├── InvalidConsentError     breaks a rule             422   INVALID_ARGUMENT
    ├── PayloadTooLargeError    beyond limits             413   RESOURCE_EXHAUSTED
    ├── ConsentNotFoundError    nothing recorded          404   NOT_FOUND
    └── ChangeRejectedError     the ledger refused        403/404/409/422 (from the reason)

Ledger errors (`medchain.ledger.errors`) reach the transports unchanged and map through their
`medchain.common.errors` bases: unavailable or timed out 503, permission 403, conflict 409.
Errors about content carry OperationOutcome issues naming a FHIRPath or a JSON path.
"""

from __future__ import annotations

from collections.abc import Sequence

from medchain.common.errors import MedChainError, NotFoundError, ValidationError
from medchain.common.fhir import Issue, IssueType, error

#: A rejection reason code (the chaincode's) -> HTTP status.
REJECTION_STATUS = {
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "FAILED_PRECONDITION": 409,
    "INVALID_ARGUMENT": 422,
}


class ConsentError(MedChainError):
    """Base of every error the consent service raises on purpose."""

    issue_type = IssueType.PROCESSING

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        super().__init__(message)
        self.issues: tuple[Issue, ...] = tuple(issues) or (error(self.issue_type, message),)


class UnparseableBodyError(ConsentError, ValidationError):
    """The body is not JSON, or not the resource or shape the route takes."""

    issue_type = IssueType.STRUCTURE


class InvalidConsentError(ConsentError, ValidationError):
    """Parsed, but breaks FHIR or a MedChain rule; `issues` say where. Nothing was recorded."""

    issue_type = IssueType.INVALID


class PayloadTooLargeError(ConsentError):
    """The body or its number of changes is beyond the configured limits."""

    issue_type = IssueType.TOO_COSTLY


class ConsentNotFoundError(ConsentError, NotFoundError):
    """No consent (or submission) recorded for what was asked."""

    issue_type = IssueType.NOT_FOUND


class ChangeRejectedError(ConsentError):
    """The ledger refused one or more accepted changes; `status` follows the first reason."""

    def __init__(self, message: str, issues: Sequence[Issue], reason_code: str) -> None:
        super().__init__(message, issues)
        self.reason_code = reason_code

    @property
    def status(self) -> int:
        """The HTTP status of the first rejection's reason."""
        return REJECTION_STATUS.get(self.reason_code, 422)
