"""The asyncio Fabric Gateway client (grpc.aio), shaped like the threaded one: `await submit(...)`.

Requests are built, signed and errors translated by the same code as in `gateway.py`; only the
calls differ. Channels are shared per endpoint within one event loop, since grpc.aio channels
belong to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import grpc
import grpc.aio

from medchain.common.logging import get_logger
from medchain.ledger._protos import gateway_pb2_grpc
from medchain.ledger._translate import translate_rpc_error
from medchain.ledger.channels import ChannelCache, ChannelTarget
from medchain.ledger.errors import CommitError, EndorseError, Phase
from medchain.ledger.events import AsyncChaincodeEventStream, Checkpoint, EventCursor
from medchain.ledger.gateway import qualified_function, result_of_endorsement
from medchain.ledger.identity import Identity, Signer
from medchain.ledger.policy import (
    DEFAULT_DEADLINES,
    DEFAULT_RECONNECT,
    ENDORSE_DISAGREEMENT_RETRY,
    RETRYABLE_VALIDATION_CODES,
    Deadlines,
    RetryPolicy,
)
from medchain.ledger.results import CommitStatus, SubmitResult
from medchain.ledger.transaction import (
    Arg,
    Invocation,
    TransactionContext,
    as_bytes,
    chaincode_events_request,
    commit_status_request,
    endorse_request,
    evaluate_request,
    submit_request,
)

_log = get_logger(__name__)
_LOOP_CHANNELS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, ChannelCache[grpc.aio.Channel]
] = weakref.WeakKeyDictionary()


def loop_channels() -> ChannelCache[grpc.aio.Channel]:
    """The channel cache of the running event loop."""
    loop = asyncio.get_running_loop()
    cache = _LOOP_CHANNELS.get(loop)
    if cache is None:
        cache = _LOOP_CHANNELS[loop] = ChannelCache()
    return cache


def open_aio_channel(target: ChannelTarget) -> grpc.aio.Channel:
    """A TLS channel for the asyncio client."""
    return grpc.aio.secure_channel(target.endpoint, target.credentials(), options=target.options())


class AsyncGateway:
    """A connection to one peer's Gateway service for asyncio code."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        identity: Identity,
        signer: Signer,
        deadlines: Deadlines = DEFAULT_DEADLINES,
        *,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._stub: Any = gateway_pb2_grpc.GatewayStub(channel)
        self._unary: dict[Phase, Any] = {
            "evaluate": self._stub.Evaluate,
            "endorse": self._stub.Endorse,
            "submit": self._stub.Submit,
            "commit_status": self._stub.CommitStatus,
        }
        self.channel = channel
        self.identity = identity
        self.signer = signer
        self.deadlines = deadlines
        self._on_close = on_close

    @classmethod
    def connect(
        cls,
        endpoint: str,
        identity: Identity,
        signer: Signer,
        tls_root_cert_pem: bytes,
        server_name_override: str | None = None,
        deadlines: Deadlines = DEFAULT_DEADLINES,
        *,
        channel_cache: ChannelCache[grpc.aio.Channel] | None = None,
    ) -> AsyncGateway:
        """Connect over TLS from inside a running event loop, sharing the loop's channel."""
        cache = channel_cache if channel_cache is not None else loop_channels()
        target = ChannelTarget(endpoint, tls_root_cert_pem, server_name_override)
        channel = cache.acquire(target, open_aio_channel)

        async def release() -> None:
            unused = cache.release(target)
            if unused is not None:
                await unused.close(None)

        return cls(channel, identity, signer, deadlines, on_close=release)

    def get_network(self, channel: str) -> AsyncNetwork:
        """The Fabric channel `channel`."""
        return AsyncNetwork(self, channel)

    async def close(self) -> None:
        """Let go of the shared channel; the last gateway using it closes it."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            await on_close()

    async def __aenter__(self) -> AsyncGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def invoke(
        self, phase: Phase, request: Any, timeout: float | None, tx_id: str | None
    ) -> Any:
        """One unary Gateway call, its gRPC errors translated."""
        method = self._unary[phase]
        try:
            return await method(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise translate_rpc_error(exc, phase=phase, tx_id=tx_id) from exc

    def open_events(self, request: Any) -> Any:
        """The server stream of chaincode events."""
        return self._stub.ChaincodeEvents(request)


class AsyncNetwork:
    """One Fabric channel seen through an asyncio gateway."""

    def __init__(self, gateway: AsyncGateway, name: str) -> None:
        self.gateway = gateway
        self.name = name

    def get_contract(self, chaincode: str, contract_name: str | None = None) -> AsyncContract:
        """A chaincode, or one named contract inside it."""
        return AsyncContract(self, chaincode, contract_name)

    async def commit_status(self, tx_id: str) -> CommitStatus:
        """Wait until `tx_id` is in a block and return its validation code and block number."""
        gw = self.gateway
        request = commit_status_request(tx_id, self.name, gw.identity, gw.signer)
        response = await gw.invoke("commit_status", request, gw.deadlines.commit_status, tx_id)
        return CommitStatus.from_response(tx_id, response)

    def chaincode_events(
        self,
        chaincode: str,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        *,
        reconnect: RetryPolicy = DEFAULT_RECONNECT,
    ) -> AsyncChaincodeEventStream:
        """Events of `chaincode` from a block, a checkpoint, or (neither) the next commit."""
        gw = self.gateway

        def open_stream(block: int | None, after_tx_id: str) -> Any:
            request = chaincode_events_request(
                self.name, chaincode, gw.identity, gw.signer, block, after_tx_id
            )
            return gw.open_events(request)

        return AsyncChaincodeEventStream(
            open_stream, EventCursor(start_block, checkpoint), reconnect
        )


class AsyncContract:
    """A chaincode (contract) to evaluate and submit to from asyncio code."""

    def __init__(
        self, network: AsyncNetwork, chaincode: str, contract_name: str | None = None
    ) -> None:
        self.network = network
        self.chaincode = chaincode
        self.contract_name = contract_name

    def _invocation(
        self, function: str, args: Sequence[Arg], transient: Mapping[str, bytes] | None = None
    ) -> Invocation:
        return Invocation(
            channel=self.network.name,
            chaincode=self.chaincode,
            function=qualified_function(self.contract_name, function),
            args=as_bytes(args),
            transient=transient,
        )

    async def evaluate(
        self, function: str, *args: Arg, endorsing_organizations: Sequence[str] | None = None
    ) -> bytes:
        """Run a query on one peer (of the given organisations) and return its result."""
        gw = self.network.gateway
        ctx = TransactionContext.new(gw.identity)
        call = self._invocation(function, args)
        request = evaluate_request(ctx, call, gw.signer, endorsing_organizations)
        response = await gw.invoke("evaluate", request, gw.deadlines.evaluate, ctx.tx_id)
        result: bytes = response.result.payload
        return result

    async def submit(
        self,
        function: str,
        *args: Arg,
        endorsing_organizations: Sequence[str] | None = None,
        transient: Mapping[str, bytes] | None = None,
        retry: RetryPolicy | None = None,
    ) -> SubmitResult:
        """Endorse, order and wait for commit; with `retry`, MVCC conflicts run it again."""
        call = self._invocation(function, args, transient)
        delays = retry.delays() if retry is not None else iter(())
        while True:
            try:
                return await self._submit_once(call, endorsing_organizations)
            except CommitError as exc:
                delay = next(delays, None)
                if exc.validation_code not in RETRYABLE_VALIDATION_CODES or delay is None:
                    raise
                _log.info("ledger.retry_conflict", function=call.function, tx_id=exc.tx_id)
                await asyncio.sleep(delay)

    async def _submit_once(self, call: Invocation, orgs: Sequence[str] | None) -> SubmitResult:
        gw = self.network.gateway
        delays = ENDORSE_DISAGREEMENT_RETRY.delays()
        while True:
            ctx = TransactionContext.new(gw.identity)
            request = endorse_request(ctx, call, gw.signer, orgs)
            try:
                endorsed = await gw.invoke("endorse", request, gw.deadlines.endorse, ctx.tx_id)
                break
            except EndorseError as exc:
                delay = next(delays, None)
                if not exc.endorsers_disagreed or delay is None:
                    raise
                _log.info("ledger.retry_disagreement", function=call.function, tx_id=exc.tx_id)
                await asyncio.sleep(delay)
        envelope = endorsed.prepared_transaction
        result = result_of_endorsement(envelope, ctx.tx_id)
        signed = submit_request(ctx.tx_id, call.channel, envelope, gw.signer)
        await gw.invoke("submit", signed, gw.deadlines.submit, ctx.tx_id)
        return SubmitResult.committed(result, await self.network.commit_status(ctx.tx_id))
