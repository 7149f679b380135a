"""Fixtures of the ingest tests: a service on SQLite or PostgreSQL, an HTTP client with a key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from medchain.common.auth import ApiKeyFile
from medchain.ingest.app import build_http_app, create_service
from medchain.ingest.service import IngestService
from medchain.ingest.settings import IngestSettings

SECRET = SecretStr("test-secret-of-hospital-h1")
MRN = "urn:oid:2.16.840.1.113883.19.5"
#: A fixed clock: the hand-written examples are dated before it, carebundle's too (2026-01).
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)


def make_settings(database_url: str, home: Path, **overrides: Any) -> IngestSettings:
    return IngestSettings(
        home=home, database_url=database_url, secret_key=SECRET, hospital_id="h1", **overrides
    )


def make_service(settings: IngestSettings) -> IngestService:
    service = create_service(settings)
    service.clock = lambda: NOW
    return service


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> IngestSettings:
    return make_settings(database_url, tmp_path / "home")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> IngestSettings:
    return make_settings(f"sqlite:///{tmp_path / 'ingest.sqlite3'}", tmp_path / "home")


@pytest.fixture
def service(settings: IngestSettings) -> IngestService:
    return make_service(settings)


@pytest.fixture
def sqlite_service(sqlite_settings: IngestSettings) -> IngestService:
    return make_service(sqlite_settings)


class FhirClient:
    """A TestClient that sends this hospital's key and FHIR JSON."""

    def __init__(self, client: TestClient, token: str, service: IngestService, keys: ApiKeyFile):
        self.http = client
        self.token = token
        self.service = service
        self.keys = keys

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json"}

    def post(self, path: str, body: Any) -> Any:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.http.post(path, content=content, headers=self.headers)

    def get(self, path: str) -> Any:
        return self.http.get(path, headers=self.headers)


def client_for(service: IngestService, home: Path) -> Iterator[FhirClient]:
    keys = ApiKeyFile(home / "api-keys.json")
    token = keys.issue("h1", "hospital-it").token
    with TestClient(build_http_app(service, keys)) as client:
        yield FhirClient(client, token, service, keys)


@pytest.fixture
def client(service: IngestService, tmp_path: Path) -> Iterator[FhirClient]:
    yield from client_for(service, tmp_path / "keys")


@pytest.fixture
def sqlite_client(sqlite_service: IngestService, tmp_path: Path) -> Iterator[FhirClient]:
    yield from client_for(sqlite_service, tmp_path / "keys")
