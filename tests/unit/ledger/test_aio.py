"""The asyncio client against the fake Gateway: flow, errors, deadlines, events, concurrency."""

from __future__ import annotations

import asyncio
import hashlib

import grpc
import pytest

from medchain.ledger.aio import AsyncGateway, loop_channels
from medchain.ledger.errors import ChaincodeConflict, CommitError, LedgerTimeout
from medchain.ledger.events import ChaincodeEvent
from medchain.ledger.identity import Identity, Signer
from medchain.ledger.policy import Deadlines, RetryPolicy

from .certs import PEER_HOST
from .conftest import TEST_DEADLINES, RunningFake
from .fake_gateway import Block, Proposal, RefusedError


def _connect(
    fake: RunningFake, user: tuple[Identity, Signer], deadlines: Deadlines = TEST_DEADLINES
) -> AsyncGateway:
    identity, signer = user
    return AsyncGateway.connect(
        fake.endpoint, identity, signer, fake.tls.ca_pem, PEER_HOST, deadlines
    )


def test_submit_and_evaluate(fake: RunningFake, user: tuple[Identity, Signer]) -> None:
    fake.servicer.state.handler = lambda p: p.function.encode() + b"|" + b",".join(p.args)

    async def scenario() -> None:
        async with _connect(fake, user) as gateway:
            contract = gateway.get_network("medchain").get_contract("medchain", "study")
            assert await contract.evaluate("GetStudy", "s-1") == b"study:GetStudy|s-1"
            submitted = await contract.submit("JoinStudy", "s-1", endorsing_organizations=["h1MSP"])
            assert submitted.result == b"study:JoinStudy|s-1"
            assert submitted.validation_name == "VALID"
            assert submitted.block_number == fake.servicer.state.block_number

    asyncio.run(scenario())
    evaluated, endorsed = fake.servicer.state.proposals
    assert (evaluated.kind, endorsed.kind) == ("evaluate", "endorse")
    assert endorsed.orgs == ("h1MSP",)
    for p in (evaluated, endorsed):
        assert p.tx_id == hashlib.sha256(p.nonce + p.creator).hexdigest()
    assert fake.servicer.state.submitted == [endorsed.tx_id]
    assert fake.servicer.state.commit_requests == [endorsed.tx_id]


def test_errors_and_retries_match_the_threaded_client(
    fake: RunningFake, user: tuple[Identity, Signer]
) -> None:
    def handler(p: Proposal) -> bytes:
        if p.function == "study:JoinStudy":
            raise RefusedError(
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction",
                [("peer0:7051", "h1MSP", "chaincode response 500, CONFLICT: already joined")],
            )
        return b"ok"

    fake.servicer.state.handler = handler
    fake.servicer.state.commit_codes.extend([11, 11])

    async def scenario() -> None:
        async with _connect(fake, user) as gateway:
            contract = gateway.get_network("medchain").get_contract("medchain", "study")
            with pytest.raises(ChaincodeConflict) as conflict:
                await contract.submit("JoinStudy", "s-1")
            assert conflict.value.details[0].msp_id == "h1MSP"
            with pytest.raises(CommitError):
                await contract.submit("OpenRound", "s-1", "1")
            retried = await contract.submit(
                "OpenRound", "s-1", "1", retry=RetryPolicy(initial_backoff=0.01)
            )
            assert retried.validation_code == 0

    asyncio.run(scenario())
    assert len(fake.servicer.state.submitted) == 3


def test_deadline(fake: RunningFake, user: tuple[Identity, Signer]) -> None:
    fake.servicer.state.delays["evaluate"] = 3.0

    async def scenario() -> None:
        deadlines = Deadlines(evaluate=0.3)
        async with _connect(fake, user, deadlines) as gateway:
            contract = gateway.get_network("medchain").get_contract("medchain")
            started = asyncio.get_running_loop().time()
            with pytest.raises(LedgerTimeout):
                await contract.evaluate("Slow")
            assert asyncio.get_running_loop().time() - started < 2.0

    asyncio.run(scenario())


def test_events_resume_after_a_broken_stream(
    fake: RunningFake, user: tuple[Identity, Signer]
) -> None:
    fake.servicer.state.blocks = [
        Block(1, [("tx1", "E", b"1"), ("tx2", "E", b"2")]),
        Block(2, [("tx3", "E", b"3")]),
    ]
    fake.servicer.state.break_stream_after = 1

    async def scenario() -> list[ChaincodeEvent]:
        received: list[ChaincodeEvent] = []
        async with _connect(fake, user) as gateway:
            network = gateway.get_network("medchain")
            fast = RetryPolicy(initial_backoff=0.01)
            async with network.chaincode_events("medchain", 0, reconnect=fast) as stream:
                async for event in stream:
                    received.append(event)
                    if len(received) == 3:
                        break
                assert stream.reconnects == 1
                assert stream.checkpoint is not None
                assert stream.checkpoint.block_number == 2
        return received

    events = asyncio.run(scenario())
    assert [e.tx_id for e in events] == ["tx1", "tx2", "tx3"]


def test_many_concurrent_submits_share_one_channel(
    fake: RunningFake, user: tuple[Identity, Signer]
) -> None:
    fake.servicer.state.handler = lambda p: p.args[0]

    async def scenario() -> None:
        first = _connect(fake, user)
        second = _connect(fake, user)
        assert first.channel is second.channel
        assert len(loop_channels()) == 1
        contract = first.get_network("medchain").get_contract("medchain", "consent")
        results = await asyncio.gather(*(contract.submit("Record", str(i)) for i in range(40)))
        assert [r.result for r in results] == [str(i).encode() for i in range(40)]
        assert len({r.tx_id for r in results}) == 40
        await first.close()
        await second.close()
        assert len(loop_channels()) == 0

    asyncio.run(scenario())
    assert len(fake.servicer.state.peers) == 1
