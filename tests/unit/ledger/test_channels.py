"""One gRPC channel per endpoint, shared across gateways and threads, closed by the last user."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from medchain.ledger.channels import ChannelCache, ChannelTarget
from medchain.ledger.errors import LedgerUnavailable
from medchain.ledger.gateway import Gateway
from medchain.ledger.identity import Identity, Signer, load_identity

from .certs import PEER_HOST, write_msp
from .conftest import TEST_DEADLINES, RunningFake


def _connect(
    fake: RunningFake, who: tuple[Identity, Signer], cache: ChannelCache[grpc.Channel]
) -> Gateway:
    identity, signer = who
    return Gateway.connect(
        fake.endpoint,
        identity,
        signer,
        fake.tls.ca_pem,
        PEER_HOST,
        TEST_DEADLINES,
        channel_cache=cache,
    )


def test_many_threads_submit_through_one_channel(
    fake: RunningFake,
    gateway: Gateway,
    channel_cache: ChannelCache[grpc.Channel],
) -> None:
    fake.servicer.state.handler = lambda p: p.args[0]
    contract = gateway.get_network("medchain").get_contract("medchain", "consent")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda i: contract.submit("Record", str(i)), range(64)))

    assert [r.result for r in results] == [str(i).encode() for i in range(64)]
    assert len({r.tx_id for r in results}) == 64
    assert sorted(fake.servicer.state.submitted) == sorted(r.tx_id for r in results)
    assert len(channel_cache) == 1
    assert len(fake.servicer.state.peers) == 1  # one TCP connection carried every call


def test_gateways_of_different_users_share_the_channel(
    fake: RunningFake,
    user: tuple[Identity, Signer],
    tmp_path: Path,
    channel_cache: ChannelCache[grpc.Channel],
) -> None:
    admin = load_identity(write_msp(tmp_path / "admin", "Admin@h1.medchain.local"), "h1MSP")
    first = _connect(fake, user, channel_cache)
    second = _connect(fake, admin, channel_cache)
    target = ChannelTarget(fake.endpoint, fake.tls.ca_pem, PEER_HOST)

    assert first.channel is second.channel
    assert channel_cache.users(target) == 2

    first.close()
    first.close()  # closing twice releases once
    assert channel_cache.users(target) == 1
    contract = second.get_network("medchain").get_contract("medchain")
    assert contract.evaluate("Ping") == b""
    assert fake.servicer.state.proposals[-1].creator == admin[0].serialized()

    second.close()
    assert len(channel_cache) == 0


def test_other_endpoints_or_trust_get_their_own_channel(
    fake: RunningFake, user: tuple[Identity, Signer], channel_cache: ChannelCache[grpc.Channel]
) -> None:
    identity, signer = user
    by_ip = _connect(fake, user, channel_cache)
    by_name = Gateway.connect(
        fake.endpoint.replace("127.0.0.1", "localhost"),
        identity,
        signer,
        fake.tls.ca_pem,
        PEER_HOST,
        channel_cache=channel_cache,
    )

    assert by_ip.channel is not by_name.channel
    assert len(channel_cache) == 2
    by_ip.close()
    by_name.close()
    assert len(channel_cache) == 0


def test_tls_name_must_match_without_override(
    fake: RunningFake, user: tuple[Identity, Signer], channel_cache: ChannelCache[grpc.Channel]
) -> None:
    identity, signer = user
    with Gateway.connect(
        fake.endpoint, identity, signer, fake.tls.ca_pem, channel_cache=channel_cache
    ) as gateway:
        contract = gateway.get_network("medchain").get_contract("medchain")
        # 127.0.0.1 is not a name in the peer's certificate, so the handshake fails.
        with pytest.raises(LedgerUnavailable) as caught:
            contract.evaluate("Ping")

    assert caught.value.phase == "evaluate"
    assert fake.servicer.state.proposals == []
