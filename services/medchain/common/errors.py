"""The base of every MedChain exception tree.

    MedChainError
    ├── ConfigurationError      settings that cannot work (placeholder secret, bad URL)
    ├── ValidationError         input that breaks a rule; carries the offending field
    ├── NotFoundError           something asked for does not exist
    ├── ConflictError           a write that clashes with what is stored
    ├── PermissionDeniedError   the caller may not do this
    └── UnavailableError        a dependency (ledger, database, peer service) cannot be reached

Each package derives its own errors from these, so transports map them to HTTP or gRPC status once.
"""

from __future__ import annotations


class MedChainError(Exception):
    """Base class of every error MedChain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(MedChainError):
    """Settings that cannot work."""


class ValidationError(MedChainError):
    """Input that breaks a rule; `field` names the offending part when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(MedChainError):
    """Something asked for does not exist."""


class ConflictError(MedChainError):
    """A write that clashes with what is already stored."""


class PermissionDeniedError(MedChainError):
    """The caller may not do this."""


class UnavailableError(MedChainError):
    """A dependency cannot be reached right now; the call may be retried."""
