"""Fixtures for ledger client tests: TLS material, an MSP, a running fake Gateway, a client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from medchain.ledger.channels import ChannelCache
from medchain.ledger.gateway import Gateway
from medchain.ledger.identity import Identity, Signer, load_identity
from medchain.ledger.policy import Deadlines

from .certs import PEER_HOST, TlsMaterial, make_tls_material, write_msp
from .fake_gateway import FakeGateway, start_server

#: Short but generous enough for two shared cores.
TEST_DEADLINES = Deadlines(evaluate=5.0, endorse=5.0, submit=5.0, commit_status=5.0)


@dataclass
class RunningFake:
    """The fake servicer and where it listens."""

    servicer: FakeGateway
    endpoint: str
    tls: TlsMaterial


@pytest.fixture(scope="session")
def tls() -> TlsMaterial:
    return make_tls_material()


@pytest.fixture
def msp_dir(tmp_path: Path) -> Path:
    return write_msp(tmp_path / "msp")


@pytest.fixture
def user(msp_dir: Path) -> tuple[Identity, Signer]:
    return load_identity(msp_dir, "h1MSP")


@pytest.fixture
def fake(tls: TlsMaterial) -> Iterator[RunningFake]:
    servicer = FakeGateway()
    server, port = start_server(servicer, tls)
    yield RunningFake(servicer, f"127.0.0.1:{port}", tls)
    servicer.stopping.set()
    server.stop(grace=None)


@pytest.fixture
def channel_cache() -> ChannelCache[grpc.Channel]:
    return ChannelCache()


@pytest.fixture
def gateway(
    fake: RunningFake, user: tuple[Identity, Signer], channel_cache: ChannelCache[grpc.Channel]
) -> Iterator[Gateway]:
    identity, signer = user
    gw = Gateway.connect(
        fake.endpoint,
        identity,
        signer,
        fake.tls.ca_pem,
        server_name_override=PEER_HOST,
        deadlines=TEST_DEADLINES,
        channel_cache=channel_cache,
    )
    yield gw
    gw.close()
