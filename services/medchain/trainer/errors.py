"""Errors of the trainer, mapped once to gRPC status codes in grpc_server.py."""

from __future__ import annotations

from medchain.common.errors import (
    ConflictError,
    MedChainError,
    NotFoundError,
    UnavailableError,
    ValidationError,
)


class TrainerError(MedChainError):
    """Base of the trainer's errors."""


class StudyMismatchError(TrainerError, ValidationError):
    """The spec sent does not hash to the ledger's specHash, or is not this hospital's study."""


class StudyNotFoundError(TrainerError, NotFoundError):
    """The ledger has no such study."""


class RoundNotOpenError(TrainerError, ConflictError):
    """The round is not open on the ledger (not yet opened, or already committed)."""


class NoEligiblePatientsError(TrainerError, ValidationError):
    """No patient has complete data and a consent that permits the study."""


class DataSourceUnavailableError(TrainerError, UnavailableError):
    """Ingest or consent could not be reached."""
