"""Settings: environment parsing and the refusal of placeholder secrets outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medchain.common.settings import Environment, Settings, get_settings


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDCHAIN_HOME", str(tmp_path))
    monkeypatch.setenv("MEDCHAIN_LOG_LEVEL", "DEBUG")
    settings = Settings()
    assert settings.home == tmp_path
    assert settings.log_level == "DEBUG"
    assert settings.environment is Environment.TEST


@pytest.mark.parametrize("secret", ["changeme", "development-only-secret", ""])
def test_placeholder_secret_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("MEDCHAIN_ENVIRONMENT", "production")
    monkeypatch.setenv("MEDCHAIN_SECRET_KEY", secret)
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


def test_placeholder_secret_allowed_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_ENVIRONMENT", "development")
    assert Settings().secret_key.get_secret_value() == "development-only-secret"


def test_real_secret_accepted_in_production_and_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_ENVIRONMENT", "production")
    monkeypatch.setenv("MEDCHAIN_SECRET_KEY", "a-real-secret-of-enough-length")
    settings = Settings()
    assert "a-real-secret" not in repr(settings)
    assert settings.secret_key.get_secret_value() == "a-real-secret-of-enough-length"


def test_short_secret_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_SECRET_KEY", "short")
    with pytest.raises(ValidationError, match="at least 16"):
        Settings()


def test_unknown_environment_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_ENVIRONMENT", "staging")
    with pytest.raises(ValidationError):
        Settings()


def test_get_settings_is_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("MEDCHAIN_LOG_LEVEL", "WARNING")
    assert get_settings().log_level == first.log_level
    get_settings.cache_clear()
    assert get_settings().log_level == "WARNING"


def test_database_url_defaults_to_sqlite_per_component(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.database_url_for("ingest") == f"sqlite:///{tmp_path / 'db' / 'ingest.sqlite3'}"
    configured = Settings(home=tmp_path, database_url="postgresql://u@127.0.0.1:5/x")
    assert configured.database_url_for("ingest") == "postgresql://u@127.0.0.1:5/x"
