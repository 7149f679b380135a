"""Consent services of real hospitals on the session's Fabric network."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from medchain.common import serde
from medchain.common.auth import ApiKeyFile
from medchain.consent.app import build_grpc_server, build_http_app, create_service
from medchain.consent.queries import FilterAnswer, FilterQuery
from medchain.consent.service import ConsentService
from medchain.consent.settings import ConsentSettings
from medchain.network.fabric_network import FabricNetwork
from medchain.v1 import consent_pb2_grpc

SECRETS = {"h1": "integration-secret-of-h1", "h2": "integration-secret-of-h2"}


class Hospital:
    """One hospital's running consent service: REST through a TestClient, gRPC on a port."""

    def __init__(self, service: ConsentService, http: TestClient, token: str, port: int) -> None:
        self.service = service
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.port = port

    def post(self, path: str, body: Any) -> Any:
        return self.http.post(path, content=json.dumps(body).encode(), headers=self.headers)

    def get(self, path: str, **params: str) -> Any:
        return self.http.get(path, headers=self.headers, params=params)

    def delete(self, path: str, **params: str) -> Any:
        return self.http.delete(path, headers=self.headers, params=params)

    def filter(
        self, study: str, pseudonyms: list[str], *, from_ledger: bool = False
    ) -> FilterAnswer:
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            stub = consent_pb2_grpc.ConsentServiceStub(channel)
            request = serde.filter_query_to_proto(FilterQuery(study, pseudonyms, from_ledger))
            return serde.filter_answer_from_proto(stub.FilterPermitted(request, timeout=30))


def profile_file(network: FabricNetwork, org: str, directory: Path) -> Path:
    """The JSON ConnectionProfile of `org`'s User1, as a deployment would mount it."""
    path = directory / f"{org}-User1.json"
    path.write_text(network.connection_profile(org).model_dump_json())
    return path


def consent_settings(
    network: FabricNetwork, home: Path, hospital: str, *, signer: str | None = None, **extra: Any
) -> ConsentSettings:
    """Settings of `hospital`'s consent service on SQLite under `home`; `signer` picks another
    org's identity (to show the ledger refusing it)."""
    home.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "home": home,
        "database_url": f"sqlite:///{home / 'consent.sqlite3'}",
        "secret_key": SecretStr(SECRETS[hospital]),
        "hospital_id": hospital,
        "ledger_profile": profile_file(network, signer or hospital, home),
        "commit_deadline_seconds": 20.0,
        "retry_initial_backoff_seconds": 0.2,
        "retry_max_backoff_seconds": 2.0,
        "ledger_commit_seconds": 15.0,
        **extra,
    }
    return ConsentSettings(**values)


@contextmanager
def running(settings: ConsentSettings) -> Iterator[Hospital]:
    """A started consent service with its REST app and gRPC server; stopped on exit."""
    service = create_service(settings)
    service.start()
    server, port = build_grpc_server(service, port=0)
    server.start()
    keys = ApiKeyFile(settings.home / "api-keys.json")
    token = keys.issue(settings.hospital_id, "integration").token
    try:
        with TestClient(build_http_app(service, keys)) as http:
            yield Hospital(service, http, token, port)
    finally:
        server.stop(0).wait()
        service.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll until `condition()` holds; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout} s")
        time.sleep(0.2)


def all_committed(hospital: Hospital, status_urls: list[str]) -> bool:
    """Whether every submission behind these status URLs is committed."""
    return all(hospital.get(url).json()["state"] == "committed" for url in status_urls)


@pytest.fixture
def h1(fabric_network: FabricNetwork, tmp_path: Path) -> Iterator[Hospital]:
    with running(consent_settings(fabric_network, tmp_path / "h1", "h1")) as hospital:
        yield hospital


@pytest.fixture
def h2(fabric_network: FabricNetwork, tmp_path: Path) -> Iterator[Hospital]:
    with running(consent_settings(fabric_network, tmp_path / "h2", "h2")) as hospital:
        yield hospital
