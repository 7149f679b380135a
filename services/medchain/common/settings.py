"""Typed settings from `MEDCHAIN_*` variables: the one place that reads the environment."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Secrets that ship in examples and must never protect real data.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "development-only-secret"})


class Environment(StrEnum):
    """Where MedChain runs; only `development` and `test` tolerate placeholder secrets."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Settings shared by every MedChain component."""

    model_config = SettingsConfigDict(
        env_prefix="MEDCHAIN_", env_file=None, extra="ignore", frozen=True
    )

    environment: Environment = Environment.DEVELOPMENT
    home: Path = Field(default=Path(".medchain"), description="Holds all runtime state.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite under `home` when unset."
    )
    secret_key: SecretStr = Field(
        default=SecretStr("development-only-secret"),
        description="The hospital's secret: keys pseudonyms and API key hashes.",
    )
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Self:
        placeholder = self.secret_key.get_secret_value() in PLACEHOLDER_SECRETS
        if placeholder and self.environment is Environment.PRODUCTION:
            raise ValueError(
                "MEDCHAIN_SECRET_KEY is a placeholder; set a real secret outside development"
            )
        if len(self.secret_key.get_secret_value()) < 16 and not placeholder:
            raise ValueError("MEDCHAIN_SECRET_KEY must be at least 16 characters")
        return self

    def database_url_for(self, component: str) -> str:
        """The database URL of one component: the configured URL or its own SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'db' / f'{component}.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing the env."""
    return Settings()
