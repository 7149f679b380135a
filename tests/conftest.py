"""Fixtures shared by every test: settings isolation and the throwaway PostgreSQL cluster."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from medchain.aggregator.settings import get_aggregator_settings
from medchain.common.db import make_engine
from medchain.common.settings import get_settings
from medchain.consent.settings import get_consent_settings
from medchain.dashboard.settings import get_dashboard_settings
from medchain.devtools.postgres import throwaway_cluster
from medchain.ingest.settings import get_ingest_settings
from medchain.trainer.settings import get_trainer_settings

POSTGRES_URL_ENV = "MEDCHAIN_TEST_POSTGRES_URL"
#: Every cached settings object: cleared around each test so no test sees another's environment.
SETTINGS_CACHES = (
    get_settings,
    get_ingest_settings,
    get_consent_settings,
    get_trainer_settings,
    get_aggregator_settings,
    get_dashboard_settings,
)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own MEDCHAIN_HOME and fresh settings caches."""
    for name in list(os.environ):
        if name.startswith("MEDCHAIN_") and name != POSTGRES_URL_ENV:
            monkeypatch.delenv(name)
    monkeypatch.setenv("MEDCHAIN_HOME", str(tmp_path / "medchain-home"))
    monkeypatch.setenv("MEDCHAIN_ENVIRONMENT", "test")
    for cached in SETTINGS_CACHES:
        cached.cache_clear()
    yield
    for cached in SETTINGS_CACHES:
        cached.cache_clear()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server: the one `make test` started, or one started for this session."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        yield url
        return
    with throwaway_cluster() as cluster:
        yield cluster.url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = make_engine(postgres_server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = postgres_server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a storage test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))
