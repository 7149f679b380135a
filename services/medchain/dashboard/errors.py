"""Errors of the dashboard, on the common tree so the aggregator maps them to HTTP once."""

from __future__ import annotations

from medchain.common.errors import MedChainError, NotFoundError, UnavailableError


class DashboardError(MedChainError):
    """Base of the dashboard's errors."""


class HospitalNotFoundError(DashboardError, NotFoundError):
    """No hospital organisation by that name on the channel."""


class AssetsUnavailableError(DashboardError, UnavailableError):
    """A pinned vendor script could not be fetched or did not match its hash."""
