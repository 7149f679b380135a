"""Fixtures of the consent tests: the service on SQLite or PostgreSQL over a fake ledger."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from medchain.common.auth import ApiKeyFile
from medchain.consent.app import build_http_app, create_service
from medchain.consent.service import ConsentService
from medchain.consent.settings import ConsentSettings
from tests.unit.consent.fake_ledger import NOW, FakeLedger

SECRET = SecretStr("test-secret-of-hospital-h1")


def make_settings(database_url: str, home: Path, **overrides: Any) -> ConsentSettings:
    values: dict[str, Any] = {
        "home": home,
        "database_url": database_url,
        "secret_key": SECRET,
        "hospital_id": "h1",
        "commit_deadline_seconds": 5.0,
        "batch_linger_seconds": 0.005,
        "retry_initial_backoff_seconds": 0.02,
        "retry_max_backoff_seconds": 0.1,
        "ledger_commit_seconds": 0.3,
        **overrides,
    }
    return ConsentSettings(**values)


def ticking_clock() -> Callable[[], dt.datetime]:
    """A clock that starts at NOW and runs at real speed (validity checks stay deterministic
    while grace periods still pass)."""
    started = time.monotonic()
    return lambda: NOW + dt.timedelta(seconds=time.monotonic() - started)


def make_service(settings: ConsentSettings, ledger: FakeLedger) -> ConsentService:
    return create_service(settings, ledger, clock=ticking_clock())


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> ConsentSettings:
    return make_settings(database_url, tmp_path / "home")


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def service(settings: ConsentSettings, ledger: FakeLedger) -> Iterator[ConsentService]:
    started = make_service(settings, ledger)
    started.start()
    try:
        yield started
    finally:
        started.stop()


class ApiClient:
    """A TestClient that sends this hospital's key."""

    def __init__(self, client: TestClient, keys: ApiKeyFile, token: str) -> None:
        self.http = client
        self.keys = keys
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Any, content_type: str = "application/json") -> Any:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {**self.headers, "Content-Type": content_type}
        return self.http.post(path, content=content, headers=headers)

    def get(self, path: str, **params: str) -> Any:
        return self.http.get(path, headers=self.headers, params=params)

    def delete(self, path: str, **params: str) -> Any:
        return self.http.delete(path, headers=self.headers, params=params)


@contextmanager
def client_for(service: ConsentService, home: Path) -> Iterator[ApiClient]:
    keys = ApiKeyFile(home / "api-keys.json")
    token = keys.issue("h1", "hospital-it").token
    with TestClient(build_http_app(service, keys)) as http:
        yield ApiClient(http, keys, token)


@pytest.fixture
def client(service: ConsentService, tmp_path: Path) -> Iterator[ApiClient]:
    with client_for(service, tmp_path / "keys") as opened:
        yield opened
