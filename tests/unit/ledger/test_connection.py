"""Connecting from a `ConnectionProfile` laid out like the local network's cryptogen output."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from medchain.ledger.channels import ChannelCache
from medchain.ledger.connection import ConnectionProfile, connect, connect_async
from medchain.ledger.errors import IdentityError

from .certs import PEER_HOST, write_msp
from .conftest import TEST_DEADLINES, RunningFake

ORG = "peerOrganizations/h1.medchain.local"


@pytest.fixture
def profile(fake: RunningFake, tmp_path: Path) -> ConnectionProfile:
    tls_dir = tmp_path / ORG / "peers" / PEER_HOST / "tls"
    tls_dir.mkdir(parents=True)
    (tls_dir / "ca.crt").write_bytes(fake.tls.ca_pem)
    msp = write_msp(tmp_path / ORG / "users" / "User1@h1.medchain.local" / "msp")
    return ConnectionProfile(
        peer_endpoint=fake.endpoint,
        tls_root_cert_path=tls_dir / "ca.crt",
        server_name_override=PEER_HOST,
        msp_id="h1MSP",
        msp_dir=msp,
    )


def test_connect_from_a_profile(fake: RunningFake, profile: ConnectionProfile) -> None:
    cache: ChannelCache[grpc.Channel] = ChannelCache()
    with connect(profile, TEST_DEADLINES, channel_cache=cache) as gateway:
        contract = gateway.get_network("medchain").get_contract("medchain", "consent")
        contract.evaluate("Get", "h1MSP")
        assert gateway.deadlines == TEST_DEADLINES
        assert len(cache) == 1

    assert len(cache) == 0
    assert fake.servicer.state.proposals[0].msp_id == "h1MSP"


def test_connect_async_from_a_profile(fake: RunningFake, profile: ConnectionProfile) -> None:
    async def scenario() -> bytes:
        async with connect_async(profile, TEST_DEADLINES) as gateway:
            contract = gateway.get_network("medchain").get_contract("medchain", "consent")
            return await contract.evaluate("Get")

    assert asyncio.run(scenario()) == b""
    assert fake.servicer.state.proposals[0].function == "consent:Get"


def test_missing_tls_certificate_is_reported(profile: ConnectionProfile, tmp_path: Path) -> None:
    broken = profile.model_copy(update={"tls_root_cert_path": tmp_path / "missing.crt"})
    with pytest.raises(IdentityError, match="TLS root certificate"):
        connect(broken)


def test_profile_round_trips_through_json(profile: ConnectionProfile) -> None:
    assert ConnectionProfile.model_validate_json(profile.model_dump_json()) == profile
