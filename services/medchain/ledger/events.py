"""Chaincode events: what one is, where a reader stands (`Checkpoint`), and the event streams.

A stream hands events out in ledger order and remembers, in its checkpoint, the block it is in
and the transactions of that block it has already handed out. When the connection breaks it asks
the Gateway again from that block, after the last of those transactions, and also drops anything
the checkpoint covers itself, so no event is seen twice and none is skipped.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc
from pydantic import BaseModel, ConfigDict, Field

from medchain.ledger._translate import translate_rpc_error
from medchain.ledger.policy import DEFAULT_RECONNECT, RetryPolicy

#: Stream failures worth reconnecting for: the peer went away or the connection broke.
RECONNECT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL})


@dataclass(frozen=True, slots=True)
class ChaincodeEvent:
    """One event set by a valid transaction."""

    block_number: int
    tx_id: str
    event_name: str
    payload: bytes
    chaincode: str = ""


class Checkpoint(BaseModel):
    """Where an event reader stands: a block, and the transactions of it already seen.

    Persist it (`model_dump_json`) after handling events and pass it back to resume; events in
    earlier blocks, and events of the listed transactions in this block, are not delivered again.
    """

    model_config = ConfigDict(frozen=True)

    block_number: int = Field(ge=0)
    tx_ids: tuple[str, ...] = ()

    @property
    def last_tx_id(self) -> str:
        """The transaction the Gateway should resume after ("" for the start of the block)."""
        return self.tx_ids[-1] if self.tx_ids else ""

    def covers(self, event: ChaincodeEvent) -> bool:
        """Whether `event` was already seen from this position."""
        if event.block_number != self.block_number:
            return event.block_number < self.block_number
        return event.tx_id in self.tx_ids

    def after(self, event: ChaincodeEvent) -> Checkpoint:
        """The checkpoint once `event` has been handed out."""
        if event.block_number == self.block_number:
            return Checkpoint(block_number=self.block_number, tx_ids=(*self.tx_ids, event.tx_id))
        return Checkpoint(block_number=event.block_number, tx_ids=(event.tx_id,))


def events_from_response(response: Any) -> list[ChaincodeEvent]:
    """The events of one `gateway.ChaincodeEventsResponse` (one block)."""
    block = int(response.block_number)
    return [
        ChaincodeEvent(
            block_number=block,
            tx_id=str(e.tx_id),
            event_name=str(e.event_name),
            payload=bytes(e.payload),
            chaincode=str(e.chaincode_id),
        )
        for e in response.events
    ]


class EventCursor:
    """The position bookkeeping a stream needs, shared by the threaded and asyncio streams."""

    def __init__(self, start_block: int | None, checkpoint: Checkpoint | None) -> None:
        if start_block is not None and checkpoint is not None:
            raise ValueError("give start_block or checkpoint, not both")
        if start_block is not None:
            checkpoint = Checkpoint(block_number=start_block)
        self.checkpoint = checkpoint

    def request_position(self) -> tuple[int | None, str]:
        """Start block (None: the next commit) and the transaction to resume after."""
        if self.checkpoint is None:
            return None, ""
        return self.checkpoint.block_number, self.checkpoint.last_tx_id

    def fresh(self, response: Any) -> list[ChaincodeEvent]:
        """The events of a response not seen before."""
        events = events_from_response(response)
        if self.checkpoint is None:
            return events
        return [e for e in events if not self.checkpoint.covers(e)]

    def handed_out(self, event: ChaincodeEvent) -> None:
        """Move the checkpoint past an event given to the reader."""
        if self.checkpoint is None:
            self.checkpoint = Checkpoint(block_number=event.block_number, tx_ids=(event.tx_id,))
        else:
            self.checkpoint = self.checkpoint.after(event)


OpenStream = Callable[[int | None, str], Any]


class ChaincodeEventStream(Iterator[ChaincodeEvent]):
    """Blocking iterator over chaincode events that reconnects and resumes by itself.

    `close()` (or leaving the `with` block) cancels the call, also from another thread.
    """

    def __init__(
        self,
        open_stream: OpenStream,
        cursor: EventCursor,
        reconnect: RetryPolicy = DEFAULT_RECONNECT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._open_stream = open_stream
        self._cursor = cursor
        self._reconnect = reconnect
        self._sleep = sleep
        self._delays = reconnect.delays()
        self._pending: deque[ChaincodeEvent] = deque()
        self._call: Any = None
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self.reconnects = 0

    @property
    def checkpoint(self) -> Checkpoint | None:
        """Where to resume: past every event handed out so far (None if none and no start)."""
        return self._cursor.checkpoint

    def __iter__(self) -> ChaincodeEventStream:
        return self

    def __next__(self) -> ChaincodeEvent:
        while True:
            if self._closed.is_set():
                raise StopIteration
            if self._pending:
                event = self._pending.popleft()
                self._cursor.handed_out(event)
                return event
            self._receive()

    def _receive(self) -> None:
        if self._call is None:
            call = self._open_stream(*self._cursor.request_position())
            with self._lock:  # so a concurrent close() either sees this call or we see it
                if self._closed.is_set():
                    call.cancel()
                    return
                self._call = call
        try:
            response = next(self._call)
        except StopIteration:
            self.close()
            return
        except grpc.RpcError as exc:
            self._call = None
            if self._closed.is_set():
                return
            delay = next(self._delays, None) if exc.code() in RECONNECT_CODES else None
            if delay is None:
                raise translate_rpc_error(exc, phase="events", tx_id=None) from exc
            self.reconnects += 1
            self._sleep(delay)
            return
        self._delays = self._reconnect.delays()
        self._pending.extend(self._cursor.fresh(response))

    def close(self) -> None:
        """Stop the stream; iteration ends."""
        with self._lock:
            self._closed.set()
            call = self._call
        if call is not None:
            call.cancel()

    def __enter__(self) -> ChaincodeEventStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChaincodeEventStream:
    """Async iterator over chaincode events that reconnects and resumes by itself."""

    def __init__(
        self,
        open_stream: OpenStream,
        cursor: EventCursor,
        reconnect: RetryPolicy = DEFAULT_RECONNECT,
    ) -> None:
        self._open_stream = open_stream
        self._cursor = cursor
        self._reconnect = reconnect
        self._delays = reconnect.delays()
        self._pending: deque[ChaincodeEvent] = deque()
        self._call: Any = None
        self._responses: Any = None
        self._closed = False
        self.reconnects = 0

    @property
    def checkpoint(self) -> Checkpoint | None:
        """Where to resume: past every event handed out so far."""
        return self._cursor.checkpoint

    def __aiter__(self) -> AsyncChaincodeEventStream:
        return self

    async def __anext__(self) -> ChaincodeEvent:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._pending:
                event = self._pending.popleft()
                self._cursor.handed_out(event)
                return event
            await self._receive()

    async def _receive(self) -> None:
        if self._call is None:
            self._call = self._open_stream(*self._cursor.request_position())
            self._responses = self._call.__aiter__()
        try:
            response = await anext(self._responses)
        except StopAsyncIteration:
            self.close()
            return
        except asyncio.CancelledError:
            if not self._closed:
                raise
            return
        except grpc.RpcError as exc:
            self._call = None
            if self._closed:
                return
            delay = next(self._delays, None) if exc.code() in RECONNECT_CODES else None
            if delay is None:
                raise translate_rpc_error(exc, phase="events", tx_id=None) from exc
            self.reconnects += 1
            await asyncio.sleep(delay)
            return
        self._delays = self._reconnect.delays()
        self._pending.extend(self._cursor.fresh(response))

    def close(self) -> None:
        """Stop the stream; iteration ends."""
        self._closed = True
        if self._call is not None:
            self._call.cancel()

    async def __aenter__(self) -> AsyncChaincodeEventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
