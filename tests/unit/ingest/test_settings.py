"""Ingest settings: its own `MEDCHAIN_INGEST_*` variables plus the shared `MEDCHAIN_*` ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from medchain.ingest.settings import IngestSettings, get_ingest_settings


def test_defaults_listen_on_loopback_with_sqlite_under_home(tmp_path: Path) -> None:
    settings = IngestSettings()

    assert (settings.hospital_id, settings.http_host, settings.grpc_host) == (
        "h1",
        "127.0.0.1",
        "127.0.0.1",
    )
    assert (
        settings.database()
        == f"sqlite:///{(tmp_path / 'medchain-home' / 'db' / 'ingest.sqlite3').resolve()}"
    )
    settings.feature_spec().check()


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCHAIN_INGEST_HOSPITAL_ID", "h2")
    monkeypatch.setenv("MEDCHAIN_INGEST_MAX_ENTRIES", "10")
    monkeypatch.setenv("MEDCHAIN_INGEST_REFERENCE_DATE", "2025-12-31")
    monkeypatch.setenv("MEDCHAIN_INGEST_LOCAL_CODE_SYSTEMS", '["urn:oid:1.2.3"]')
    monkeypatch.setenv("MEDCHAIN_DATABASE_URL", "postgresql://db/ingest")
    monkeypatch.setenv("MEDCHAIN_SECRET_KEY", "a-real-secret-for-h2")
    get_ingest_settings.cache_clear()

    settings = get_ingest_settings()

    assert settings.hospital_id == "h2"
    assert settings.max_entries == 10
    assert settings.feature_spec().reference_date == date(2025, 12, 31)
    assert settings.local_code_systems == frozenset({"urn:oid:1.2.3"})
    assert settings.database() == "postgresql://db/ingest"
    assert settings.secret_key.get_secret_value() == "a-real-secret-for-h2"
    get_ingest_settings.cache_clear()


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        IngestSettings(hospital_id="Hospital One")
    with pytest.raises(ValidationError):
        IngestSettings(max_body_bytes=0)
    monkeypatch.setenv("MEDCHAIN_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="placeholder"):
        IngestSettings()
