"""Settings of one hospital's trainer (`MEDCHAIN_TRAINER_*` plus the shared `MEDCHAIN_*` ones)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from medchain.common.settings import ServiceSettings

COMPONENT = "trainer"


class TrainerSettings(ServiceSettings):
    """Where the trainer listens, where its hospital's data and consent live, how it signs."""

    model_config = SettingsConfigDict(
        env_prefix="MEDCHAIN_TRAINER_", env_file=None, extra="ignore", frozen=True
    )

    hospital_id: str = Field(default="h1", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50063, ge=0, le=65535)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8083, ge=0, le=65535)
    ingest_address: str = Field(default="127.0.0.1:50061", description="ingest gRPC host:port")
    consent_address: str | None = Field(
        default=None,
        description="consent gRPC host:port; unset = ask the ledger's FilterPermitted directly",
    )
    ledger_profile: Path | None = Field(
        default=None, description="JSON ConnectionProfile of this hospital's trainer identity"
    )
    channel: str = "medchain"
    chaincode: str = "medchain"
    grpc_grace_seconds: float = Field(default=5.0, ge=0)

    @property
    def msp_id(self) -> str:
        return f"{self.hospital_id}MSP"

    def database(self) -> str:
        """The round log's SQLAlchemy URL."""
        return self.database_url_for(f"{COMPONENT}-{self.hospital_id}")


@lru_cache(maxsize=1)
def get_trainer_settings() -> TrainerSettings:
    """Process-wide trainer settings; tests call `get_trainer_settings.cache_clear()`."""
    return TrainerSettings()
