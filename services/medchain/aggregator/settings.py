"""Settings of the study aggregator (`MEDCHAIN_AGGREGATOR_*` plus the shared `MEDCHAIN_*` ones)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from medchain.common.settings import ServiceSettings

COMPONENT = "aggregator"


class AggregatorSettings(ServiceSettings):
    """Where the aggregator listens, which trainers it calls, which ledger identity it uses."""

    model_config = SettingsConfigDict(
        env_prefix="MEDCHAIN_AGGREGATOR_", env_file=None, extra="ignore", frozen=True
    )

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    trainers: dict[str, str] = Field(
        default_factory=dict,
        description='JSON: MSP id -> trainer gRPC address, e.g. {"h1MSP": "127.0.0.1:50063"}',
    )
    ledger_profile: Path | None = Field(
        default=None, description="JSON ConnectionProfile of the study coordinator's identity"
    )
    channel: str = "medchain"
    chaincode: str = "medchain"
    #: Seconds for the statistics, join and evaluation calls (training has the study's deadline).
    call_timeout: float = Field(default=120.0, gt=0)

    @property
    def model_dir(self) -> Path:
        """The content-addressed model and update store."""
        return self.home / "aggregator" / "models"

    def database(self) -> str:
        return self.database_url_for(COMPONENT)


@lru_cache(maxsize=1)
def get_aggregator_settings() -> AggregatorSettings:
    """Process-wide aggregator settings; tests call `get_aggregator_settings.cache_clear()`."""
    return AggregatorSettings()
