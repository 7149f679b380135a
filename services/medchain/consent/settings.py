"""Settings of the consent service (`MEDCHAIN_CONSENT_*` plus the shared `MEDCHAIN_*` ones)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from medchain.common.errors import ConfigurationError
from medchain.common.settings import ServiceSettings
from medchain.ledger import ConnectionProfile, Deadlines

COMPONENT = "consent"


class ConsentSettings(ServiceSettings):
    """Where the consent service listens, how it reaches the ledger, and how it batches changes."""

    model_config = SettingsConfigDict(
        env_prefix="MEDCHAIN_CONSENT_", env_file=None, extra="ignore", frozen=True
    )

    hospital_id: str = Field(default="h1", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    org: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,128}$",
        description="MSP id that owns this hospital's consents on the ledger; "
        "`<hospital_id>MSP` when unset.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8082, ge=0, le=65535)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50062, ge=0, le=65535)
    grpc_grace_seconds: float = Field(default=5.0, ge=0)
    ledger_profile: Path | None = Field(
        default=None,
        description="JSON ConnectionProfile of this hospital's peer and user; "
        "`<home>/network/profiles/<hospital_id>-User1.json` when unset.",
    )
    channel: str = "medchain"
    chaincode: str = "medchain"
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    max_changes_per_request: int = Field(default=10_000, gt=0, le=100_000)
    batch_size: int = Field(default=1000, ge=1, le=1000, description="Changes per RecordBatch")
    batch_linger_seconds: float = Field(
        default=0.02, ge=0, description="How long a partial batch waits for more changes."
    )
    max_inflight_batches: int = Field(default=2, ge=1, le=16)
    commit_deadline_seconds: float = Field(
        default=10.0, gt=0, description="How long a request waits for its commit (201) before 202."
    )
    retry_initial_backoff_seconds: float = Field(default=0.5, gt=0)
    retry_max_backoff_seconds: float = Field(default=15.0, gt=0)
    ledger_evaluate_seconds: float = Field(default=10.0, gt=0)
    ledger_endorse_seconds: float = Field(default=30.0, gt=0)
    ledger_commit_seconds: float = Field(default=30.0, gt=0)
    doubt_checks: int = Field(
        default=3,
        ge=1,
        description="Commit-status timeouts, with the peer reachable, after which a transaction "
        "of unknown outcome is taken as never ordered and its changes are submitted again.",
    )

    @model_validator(mode="after")
    def _backoff_bounds(self) -> Self:
        if self.retry_max_backoff_seconds < self.retry_initial_backoff_seconds:
            raise ValueError("retry_max_backoff_seconds must be >= retry_initial_backoff_seconds")
        return self

    @property
    def msp_id(self) -> str:
        """The organisation whose consents this service writes."""
        return self.org or f"{self.hospital_id}MSP"

    def database(self) -> str:
        """This service's SQLAlchemy URL."""
        return self.database_url_for(COMPONENT)

    def profile_path(self) -> Path:
        """Where the ledger connection profile is read from."""
        if self.ledger_profile is not None:
            return self.ledger_profile
        return self.home / "network" / "profiles" / f"{self.hospital_id}-User1.json"

    def connection_profile(self) -> ConnectionProfile:
        """The ledger connection profile; a missing or malformed file is a ConfigurationError."""
        path = self.profile_path()
        try:
            return ConnectionProfile.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the ledger profile {path} (MEDCHAIN_CONSENT_LEDGER_PROFILE): {exc}"
            ) from exc
        except ValueError as exc:
            raise ConfigurationError(f"{path} is not a ConnectionProfile: {exc}") from exc

    def deadlines(self) -> Deadlines:
        """Per-call deadlines of ledger calls."""
        return Deadlines(
            evaluate=self.ledger_evaluate_seconds,
            endorse=self.ledger_endorse_seconds,
            submit=self.ledger_endorse_seconds,
            commit_status=self.ledger_commit_seconds,
        )


@lru_cache(maxsize=1)
def get_consent_settings() -> ConsentSettings:
    """Process-wide consent settings; tests call `get_consent_settings.cache_clear()`."""
    return ConsentSettings()
