"""Errors of the aggregator, mapped once to HTTP status codes in app.py."""

from __future__ import annotations

from medchain.common.errors import (
    ConflictError,
    MedChainError,
    NotFoundError,
    UnavailableError,
    ValidationError,
)


class AggregatorError(MedChainError):
    """Base of the aggregator's errors."""


class StudyNotFoundError(AggregatorError, NotFoundError):
    """No such study."""


class ModelNotFoundError(AggregatorError, NotFoundError):
    """No model or update with that hash in the store."""


class StudyDefinitionError(AggregatorError, ValidationError):
    """A study that cannot run as defined (no trainer for a participant, bad statistics)."""


class StudyBusyError(AggregatorError, ConflictError):
    """The study is already running, or already exists."""


class RoundFailedError(AggregatorError, UnavailableError):
    """Too few hospitals contributed an accepted update before the deadline."""


class TamperedArtifactError(AggregatorError, ValidationError):
    """A stored model or update no longer hashes to its name."""
