"""Chaincode event streams: start positions, checkpoints, reconnects, no duplicates."""

from __future__ import annotations

import itertools
import threading
import time

import grpc
import pytest

from medchain.ledger.errors import LedgerError, LedgerUnavailable
from medchain.ledger.events import ChaincodeEvent, ChaincodeEventStream, Checkpoint
from medchain.ledger.gateway import Gateway, Network
from medchain.ledger.policy import RetryPolicy

from .conftest import RunningFake
from .fake_gateway import Block, RefusedError

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
BLOCKS = [
    Block(3, [("tx1", "ConsentRecorded", b"1"), ("tx2", "ConsentRecorded", b"2")]),
    Block(5, [("tx3", "StudyCreated", b"3")]),
    Block(6, [("tx4", "RoundOpened", b"4"), ("tx5", "UpdateSubmitted", b"5")]),
]


def _tx_ids(events: list[ChaincodeEvent]) -> list[str]:
    return [e.tx_id for e in events]


def _take(stream: ChaincodeEventStream, n: int) -> list[ChaincodeEvent]:
    events = list(itertools.islice(stream, n))
    stream.close()
    return events


@pytest.fixture
def network(fake: RunningFake, gateway: Gateway) -> Network:
    fake.servicer.state.blocks = list(BLOCKS)
    return gateway.get_network("medchain")


def test_checkpoint_covers_what_was_handed_out() -> None:
    event = ChaincodeEvent(5, "tx3", "E", b"")
    start = Checkpoint(block_number=5)
    after = start.after(event)

    assert not start.covers(event)
    assert after == Checkpoint(block_number=5, tx_ids=("tx3",))
    assert after.covers(event)
    assert after.covers(ChaincodeEvent(4, "old", "E", b""))
    assert not after.covers(ChaincodeEvent(5, "tx9", "E", b""))
    assert after.after(ChaincodeEvent(6, "tx4", "E", b"")) == Checkpoint(
        block_number=6, tx_ids=("tx4",)
    )
    assert Checkpoint.model_validate_json(after.model_dump_json()) == after


def test_events_from_a_start_block(fake: RunningFake, network: Network) -> None:
    events = _take(network.chaincode_events("medchain", start_block=5), 3)

    assert [(e.block_number, e.tx_id, e.event_name, e.payload) for e in events] == [
        (5, "tx3", "StudyCreated", b"3"),
        (6, "tx4", "RoundOpened", b"4"),
        (6, "tx5", "UpdateSubmitted", b"5"),
    ]
    assert events[0].chaincode == "medchain"
    [request] = fake.servicer.state.event_requests
    assert request.chaincode_id == "medchain"
    assert request.channel_id == "medchain"
    assert request.start_position.specified.number == 5
    assert request.after_transaction_id == ""


def test_default_start_is_the_next_commit(fake: RunningFake, network: Network) -> None:
    fake.servicer.state.next_commit_block = 6
    events = _take(network.chaincode_events("medchain"), 2)

    assert _tx_ids(events) == ["tx4", "tx5"]
    assert fake.servicer.state.event_requests[0].start_position.WhichOneof("Type") == "next_commit"


def test_resume_mid_block_from_a_checkpoint(fake: RunningFake, network: Network) -> None:
    first = network.chaincode_events("medchain", start_block=0)
    seen = _take(first, 1)
    assert first.checkpoint == Checkpoint(block_number=3, tx_ids=("tx1",))
    assert first.checkpoint is not None

    saved = Checkpoint.model_validate_json(first.checkpoint.model_dump_json())
    seen += _take(network.chaincode_events("medchain", checkpoint=saved), 4)

    assert _tx_ids(seen) == ["tx1", "tx2", "tx3", "tx4", "tx5"]
    second_request = fake.servicer.state.event_requests[1]
    assert second_request.start_position.specified.number == 3
    assert second_request.after_transaction_id == "tx1"


def test_checkpoint_alone_prevents_duplicates(fake: RunningFake, network: Network) -> None:
    fake.servicer.state.ignore_after_tx_id = True  # a gateway that replays the whole block
    checkpoint = Checkpoint(block_number=3, tx_ids=("tx1", "tx2"))

    events = _take(network.chaincode_events("medchain", checkpoint=checkpoint), 3)

    assert _tx_ids(events) == ["tx3", "tx4", "tx5"]


def test_broken_stream_reconnects_without_duplicates(fake: RunningFake, network: Network) -> None:
    fake.servicer.state.break_stream_after = 1  # block 3 is delivered, then UNAVAILABLE
    stream = network.chaincode_events("medchain", start_block=0, reconnect=FAST)

    events = _take(stream, 5)

    assert _tx_ids(events) == ["tx1", "tx2", "tx3", "tx4", "tx5"]
    assert stream.reconnects == 1
    resumed = fake.servicer.state.event_requests[1]
    assert resumed.start_position.specified.number == 3
    assert resumed.after_transaction_id == "tx2"


def test_gives_up_after_the_reconnect_budget(fake: RunningFake, network: Network) -> None:
    fake.servicer.state.failures["events"] = RefusedError(grpc.StatusCode.UNAVAILABLE, "down")
    stream = network.chaincode_events("medchain", start_block=0, reconnect=FAST)

    with pytest.raises(LedgerUnavailable) as caught:
        next(stream)

    assert caught.value.phase == "events"
    assert stream.reconnects == 2
    assert len(fake.servicer.state.event_requests) == 3


def test_permanent_errors_are_not_retried(fake: RunningFake, network: Network) -> None:
    fake.servicer.state.failures["events"] = RefusedError(
        grpc.StatusCode.PERMISSION_DENIED, "not a channel member"
    )
    stream = network.chaincode_events("medchain", start_block=0, reconnect=FAST)

    with pytest.raises(LedgerError, match="not a channel member"):
        next(stream)
    assert len(fake.servicer.state.event_requests) == 1


def test_close_from_another_thread_ends_a_waiting_iteration(
    fake: RunningFake, network: Network
) -> None:
    stream = network.chaincode_events("medchain", start_block=7)  # nothing there yet
    received: list[ChaincodeEvent] = []
    reader = threading.Thread(target=lambda: received.extend(stream))
    reader.start()
    deadline = time.monotonic() + 5
    while not fake.servicer.state.event_requests and time.monotonic() < deadline:
        time.sleep(0.01)

    stream.close()
    reader.join(timeout=5)

    assert not reader.is_alive()
    assert received == []


def test_start_block_and_checkpoint_together_are_refused(network: Network) -> None:
    with pytest.raises(ValueError, match="not both"):
        network.chaincode_events("medchain", start_block=1, checkpoint=Checkpoint(block_number=1))


def test_a_closed_stream_yields_nothing(network: Network) -> None:
    stream = network.chaincode_events("medchain", start_block=0)
    stream.close()

    assert list(stream) == []
