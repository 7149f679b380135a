"""The threaded Fabric Gateway client: `Gateway` -> `Network` (channel) -> `Contract`.

Every call signs its own request; the gRPC channel underneath is shared per endpoint and safe to
use from many threads at once, so one `Gateway` serves a whole process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from medchain.common.logging import get_logger
from medchain.ledger._protos import gateway_pb2_grpc
from medchain.ledger._translate import translate_rpc_error
from medchain.ledger.channels import SHARED_CHANNELS, ChannelCache, ChannelTarget, open_channel
from medchain.ledger.errors import CommitError, EndorseError, Phase
from medchain.ledger.events import ChaincodeEventStream, Checkpoint, EventCursor
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
    endorsed_result,
    evaluate_request,
    submit_request,
)

_log = get_logger(__name__)


def qualified_function(contract_name: str | None, function: str) -> str:
    """`contract:Function` when the chaincode holds several contracts, else `Function`."""
    return f"{contract_name}:{function}" if contract_name else function


def result_of_endorsement(envelope: Any, tx_id: str) -> bytes:
    """The chaincode result inside an endorsed envelope; a malformed one is an `EndorseError`."""
    try:
        return endorsed_result(envelope)
    except (DecodeError, ValueError) as exc:
        raise EndorseError(f"malformed endorsed transaction: {exc}", tx_id=tx_id) from exc


class Gateway:
    """A connection to one peer's Gateway service, acting as one signing identity.

    Use `Gateway.connect`; constructed directly around a channel, the gateway leaves the channel
    open on `close()` unless given an `on_close`.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        identity: Identity,
        signer: Signer,
        deadlines: Deadlines = DEFAULT_DEADLINES,
        *,
        on_close: Callable[[], None] | None = None,
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
        channel_cache: ChannelCache[grpc.Channel] = SHARED_CHANNELS,
    ) -> Gateway:
        """Connect over TLS, reusing the process's channel to `endpoint` if there is one."""
        target = ChannelTarget(endpoint, tls_root_cert_pem, server_name_override)
        channel = channel_cache.acquire(target, open_channel)

        def release() -> None:
            unused = channel_cache.release(target)
            if unused is not None:
                unused.close()

        return cls(channel, identity, signer, deadlines, on_close=release)

    def get_network(self, channel: str) -> Network:
        """The Fabric channel `channel`."""
        return Network(self, channel)

    def close(self) -> None:
        """Let go of the shared channel; the last gateway using it closes it."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def invoke(self, phase: Phase, request: Any, timeout: float | None, tx_id: str | None) -> Any:
        """One unary Gateway call, its gRPC errors translated."""
        method = self._unary[phase]
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise translate_rpc_error(exc, phase=phase, tx_id=tx_id) from exc

    def open_events(self, request: Any) -> Any:
        """The server stream of chaincode events; errors surface while iterating."""
        return self._stub.ChaincodeEvents(request)


class Network:
    """One Fabric channel seen through a gateway."""

    def __init__(self, gateway: Gateway, name: str) -> None:
        self.gateway = gateway
        self.name = name

    def get_contract(self, chaincode: str, contract_name: str | None = None) -> Contract:
        """A chaincode, or one named contract inside it."""
        return Contract(self, chaincode, contract_name)

    def commit_status(self, tx_id: str) -> CommitStatus:
        """Wait until `tx_id` is in a block and return its validation code and block number."""
        gw = self.gateway
        request = commit_status_request(tx_id, self.name, gw.identity, gw.signer)
        response = gw.invoke("commit_status", request, gw.deadlines.commit_status, tx_id)
        return CommitStatus.from_response(tx_id, response)

    def chaincode_events(
        self,
        chaincode: str,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        *,
        reconnect: RetryPolicy = DEFAULT_RECONNECT,
    ) -> ChaincodeEventStream:
        """Events of `chaincode` from a block, a checkpoint, or (neither) the next commit."""
        gw = self.gateway

        def open_stream(block: int | None, after_tx_id: str) -> Any:
            request = chaincode_events_request(
                self.name, chaincode, gw.identity, gw.signer, block, after_tx_id
            )
            return gw.open_events(request)

        return ChaincodeEventStream(open_stream, EventCursor(start_block, checkpoint), reconnect)


class Contract:
    """A chaincode (contract) to evaluate queries on and submit transactions to."""

    def __init__(self, network: Network, chaincode: str, contract_name: str | None = None) -> None:
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

    def evaluate(
        self, function: str, *args: Arg, endorsing_organizations: Sequence[str] | None = None
    ) -> bytes:
        """Run a query on one peer (of the given organisations) and return its result."""
        gw = self.network.gateway
        ctx = TransactionContext.new(gw.identity)
        call = self._invocation(function, args)
        request = evaluate_request(ctx, call, gw.signer, endorsing_organizations)
        response = gw.invoke("evaluate", request, gw.deadlines.evaluate, ctx.tx_id)
        result: bytes = response.result.payload
        return result

    def submit(
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
                return self._submit_once(call, endorsing_organizations)
            except CommitError as exc:
                delay = next(delays, None)
                if exc.validation_code not in RETRYABLE_VALIDATION_CODES or delay is None:
                    raise
                _log.info(
                    "ledger.retry_conflict",
                    function=call.function,
                    tx_id=exc.tx_id,
                    code=exc.validation_name,
                    delay=round(delay, 3),
                )
                time.sleep(delay)

    def _submit_once(self, call: Invocation, orgs: Sequence[str] | None) -> SubmitResult:
        gw = self.network.gateway
        delays = ENDORSE_DISAGREEMENT_RETRY.delays()
        while True:
            ctx = TransactionContext.new(gw.identity)
            request = endorse_request(ctx, call, gw.signer, orgs)
            try:
                endorsed = gw.invoke("endorse", request, gw.deadlines.endorse, ctx.tx_id)
                break
            except EndorseError as exc:
                delay = next(delays, None)
                if not exc.endorsers_disagreed or delay is None:
                    raise
                _log.info("ledger.retry_disagreement", function=call.function, tx_id=exc.tx_id)
                time.sleep(delay)
        envelope = endorsed.prepared_transaction
        result = result_of_endorsement(envelope, ctx.tx_id)
        signed = submit_request(ctx.tx_id, call.channel, envelope, gw.signer)
        gw.invoke("submit", signed, gw.deadlines.submit, ctx.tx_id)
        return SubmitResult.committed(result, self.network.commit_status(ctx.tx_id))
