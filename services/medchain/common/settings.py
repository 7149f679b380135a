"""Typed settings from `MEDCHAIN_*` variables: the one place that reads the environment."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medchain.common.tls import TLSFiles

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


#: What every service reads under the shared `MEDCHAIN_` prefix, whatever its own prefix is.
SHARED_FIELDS = ("environment", "home", "database_url", "secret_key", "log_level", "log_json")


class ServiceSettings(Settings):
    """Base of one service's settings (its own `MEDCHAIN_<SERVICE>_` prefix): the shared fields
    come from `MEDCHAIN_*` unless set explicitly, and mutual TLS takes all three files or none."""

    tls_cert: Path | None = Field(default=None, description="this service's certificate (mTLS)")
    tls_key: Path | None = None
    tls_trusted_cas: Path | None = Field(
        default=None, description="CAs whose certificates this service accepts"
    )

    @model_validator(mode="after")
    def _shared_fields_and_tls(self) -> Self:
        shared = Settings()
        for name in SHARED_FIELDS:
            if name not in self.model_fields_set:
                object.__setattr__(self, name, getattr(shared, name))
        given = (self.tls_cert, self.tls_key, self.tls_trusted_cas)
        if any(given) and not all(given):
            prefix = self.model_config.get("env_prefix", "MEDCHAIN_")
            raise ValueError(
                f"set all of {prefix}TLS_CERT, {prefix}TLS_KEY, {prefix}TLS_TRUSTED_CAS"
            )
        return self

    @property
    def tls(self) -> TLSFiles | None:
        """Mutual TLS files when configured (the local federation always configures them)."""
        if self.tls_cert and self.tls_key and self.tls_trusted_cas:
            return TLSFiles(self.tls_cert, self.tls_key, self.tls_trusted_cas)
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing the env."""
    return Settings()
