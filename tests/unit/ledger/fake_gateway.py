"""A fake Fabric Gateway service over TLS that checks what a real peer checks and records it all.

It verifies every signature against the creator's certificate (and refuses high-S ones), checks
that the transaction id is SHA-256(nonce || creator), answers with scripted results, errors,
commit codes and events, and can be told to sleep or to drop an event stream.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fabric_protos.gateway import gateway_pb2_grpc
from grpc_status import rpc_status

from medchain.ledger._protos import (
    chaincode_event_pb2,
    chaincode_pb2,
    common_pb2,
    gateway_pb2,
    identities_pb2,
    proposal_pb2,
    proposal_response_pb2,
    status_pb2,
    transaction_pb2,
)
from medchain.ledger._protos import gateway_pb2_grpc as untyped_gateway_grpc
from medchain.ledger.identity import P256_ORDER

from .certs import TlsMaterial


class RefusedError(Exception):
    """Raised by a handler: the fake fails the call with this status and per-peer details."""

    def __init__(
        self, code: grpc.StatusCode, message: str, details: Sequence[tuple[str, str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def abort(self, context: grpc.ServicerContext) -> None:
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        for address, msp_id, message in self.details:
            detail = gateway_pb2.ErrorDetail(address=address, msp_id=msp_id, message=message)
            status.details.add().Pack(detail)
        context.abort_with_status(rpc_status.to_status(status))


@dataclass(frozen=True)
class Proposal:
    """A decoded signed proposal, as the fake received it."""

    kind: str
    tx_id: str
    channel: str
    header_type: int
    chaincode: str
    function: str
    args: tuple[bytes, ...]
    transient: dict[str, bytes]
    nonce: bytes
    creator: bytes
    msp_id: str
    orgs: tuple[str, ...]


def verify(creator: bytes, signature: bytes, data: bytes) -> str | None:
    """Why a signature would be refused by a peer, or None if it is fine."""
    identity = identities_pb2.SerializedIdentity.FromString(creator)
    key = x509.load_pem_x509_certificate(identity.id_bytes).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "signature does not verify"
    if decode_dss_signature(signature)[1] > P256_ORDER // 2:
        return "signature is high-S"
    return None


def decode_proposal(kind: str, signed: Any, orgs: Sequence[str]) -> Proposal:
    proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    assert spec.chaincode_id.name == extension.chaincode_id.name
    args = [bytes(a) for a in spec.input.args]
    creator = bytes(signature_header.creator)
    return Proposal(
        kind=kind,
        tx_id=channel_header.tx_id,
        channel=channel_header.channel_id,
        header_type=channel_header.type,
        chaincode=extension.chaincode_id.name,
        function=args[0].decode(),
        args=tuple(args[1:]),
        transient=dict(payload.TransientMap),
        nonce=bytes(signature_header.nonce),
        creator=creator,
        msp_id=identities_pb2.SerializedIdentity.FromString(creator).mspid,
        orgs=tuple(orgs),
    )


def endorsed_envelope(proposal: Proposal, result: bytes) -> Any:
    """An unsigned envelope like the Gateway prepares, carrying `result` where clients find it."""
    action = proposal_pb2.ChaincodeAction(response=proposal_response_pb2.Response(status=200))
    action.response.payload = result
    response_payload = proposal_response_pb2.ProposalResponsePayload(
        extension=action.SerializeToString()
    )
    action_payload = transaction_pb2.ChaincodeActionPayload(
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=response_payload.SerializeToString()
        )
    )
    tx = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(payload=action_payload.SerializeToString())]
    )
    header = common_pb2.Header(
        channel_header=common_pb2.ChannelHeader(
            type=3, channel_id=proposal.channel, tx_id=proposal.tx_id
        ).SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=proposal.creator, nonce=proposal.nonce
        ).SerializeToString(),
    )
    payload = common_pb2.Payload(header=header, data=tx.SerializeToString())
    return common_pb2.Envelope(payload=payload.SerializeToString())


@dataclass
class Block:
    """A block's chaincode events: (tx id, event name, payload)."""

    number: int
    events: list[tuple[str, str, bytes]]


@dataclass
class FakeState:
    """What the fake answers and what it saw."""

    handler: Callable[[Proposal], bytes] = lambda p: b""
    commit_codes: deque[int] = field(default_factory=deque)
    block_number: int = 7
    delays: dict[str, float] = field(default_factory=dict)
    failures: dict[str, RefusedError] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    next_commit_block: int = 0
    break_stream_after: int | None = None
    ignore_after_tx_id: bool = False
    proposals: list[Proposal] = field(default_factory=list)
    signatures: list[bytes] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    commit_requests: list[str] = field(default_factory=list)
    event_requests: list[Any] = field(default_factory=list)
    peers: set[str] = field(default_factory=set)


class FakeGateway(gateway_pb2_grpc.GatewayServicer):
    """The servicer: thin checks and recordings around `FakeState`."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def _check(
        self, context: grpc.ServicerContext, creator: bytes, sig: bytes, data: bytes
    ) -> None:
        with self.lock:
            self.state.signatures.append(sig)
            self.state.peers.add(context.peer())
        problem = verify(creator, sig, data)
        if problem is not None:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, problem)

    def _pause(self, method: str, context: grpc.ServicerContext) -> None:
        delay = self.state.delays.get(method)
        if delay:
            self.stopping.wait(delay)
        failure = self.state.failures.get(method)
        if failure is not None:
            failure.abort(context)

    def _proposal(
        self, kind: str, signed: Any, orgs: Sequence[str], context: grpc.ServicerContext
    ) -> tuple[Proposal, bytes]:
        proposal = decode_proposal(kind, signed, orgs)
        self._check(context, proposal.creator, signed.signature, signed.proposal_bytes)
        if hashlib.sha256(proposal.nonce + proposal.creator).hexdigest() != proposal.tx_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "transaction id does not match")
        with self.lock:
            self.state.proposals.append(proposal)
        self._pause(kind, context)
        try:
            return proposal, self.state.handler(proposal)
        except RefusedError as refused:
            refused.abort(context)
            raise

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:
        _, result = self._proposal(
            "evaluate", request.proposed_transaction, request.target_organizations, context
        )
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=result)
        )

    def Endorse(self, request: Any, context: grpc.ServicerContext) -> Any:
        proposal, result = self._proposal(
            "endorse", request.proposed_transaction, request.endorsing_organizations, context
        )
        return gateway_pb2.EndorseResponse(prepared_transaction=endorsed_envelope(proposal, result))

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:
        envelope = request.prepared_transaction
        header = common_pb2.Payload.FromString(envelope.payload).header
        creator = common_pb2.SignatureHeader.FromString(header.signature_header).creator
        self._check(context, creator, envelope.signature, envelope.payload)
        with self.lock:
            self.state.submitted.append(request.transaction_id)
        self._pause("submit", context)
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        inner = gateway_pb2.CommitStatusRequest.FromString(request.request)
        self._check(context, inner.identity, request.signature, request.request)
        with self.lock:
            self.state.commit_requests.append(inner.transaction_id)
            code = self.state.commit_codes.popleft() if self.state.commit_codes else 0
        self._pause("commit_status", context)
        return gateway_pb2.CommitStatusResponse(result=code, block_number=self.state.block_number)

    def ChaincodeEvents(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        inner = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        self._check(context, inner.identity, request.signature, request.request)
        with self.lock:
            self.state.event_requests.append(inner)
        self._pause("events", context)
        position = inner.start_position
        start = (
            position.specified.number
            if position.WhichOneof("Type") == "specified"
            else self.state.next_commit_block
        )
        after = "" if self.state.ignore_after_tx_id else inner.after_transaction_id
        passed = not after  # Fabric skips every event up to and including `after`
        sent = 0
        for block in self.state.blocks:
            if block.number < start:
                continue
            events = []
            for tx_id, name, payload in block.events:
                if not passed:
                    passed = tx_id == after
                    continue
                events.append(
                    chaincode_event_pb2.ChaincodeEvent(
                        chaincode_id=inner.chaincode_id,
                        tx_id=tx_id,
                        event_name=name,
                        payload=payload,
                    )
                )
            if not events:
                continue
            if self.state.break_stream_after is not None and sent >= self.state.break_stream_after:
                self.state.break_stream_after = None
                context.abort(grpc.StatusCode.UNAVAILABLE, "peer went away")
            sent += 1
            yield gateway_pb2.ChaincodeEventsResponse(events=events, block_number=block.number)
        while context.is_active() and not self.stopping.wait(0.05):
            pass


def start_server(servicer: FakeGateway, tls: TlsMaterial) -> tuple[grpc.Server, int]:
    """Serve the fake on 127.0.0.1, on a free port, over TLS; return the server and the port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=48))
    untyped_gateway_grpc.add_GatewayServicer_to_server(servicer, server)
    credentials = grpc.ssl_server_credentials([(tls.server_key_pem, tls.server_cert_pem)])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, port
