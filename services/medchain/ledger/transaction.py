"""Fabric Gateway messages built and read: proposals, signed requests, endorsed envelopes.

Pure functions over bytes: no network here. This module and the event code are the only places
where Fabric's protobuf messages meet plain Python values.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medchain.ledger._protos import (
    ab_pb2,
    chaincode_pb2,
    common_pb2,
    gateway_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from medchain.ledger.identity import Identity, Signer

NONCE_BYTES = 24
Arg = str | bytes


def transaction_id(nonce: bytes, creator: bytes) -> str:
    """hex(SHA-256(nonce || creator)): the id the peer recomputes and checks."""
    return hashlib.sha256(nonce + creator).hexdigest()


@dataclass(frozen=True, slots=True)
class TransactionContext:
    """The random nonce, the creator and the transaction id they make."""

    nonce: bytes
    creator: bytes
    tx_id: str

    @classmethod
    def new(cls, identity: Identity) -> TransactionContext:
        """A fresh context with 24 random bytes of nonce."""
        nonce = os.urandom(NONCE_BYTES)
        creator = identity.serialized()
        return cls(nonce=nonce, creator=creator, tx_id=transaction_id(nonce, creator))


@dataclass(frozen=True, slots=True)
class Invocation:
    """One chaincode call: where it goes and what it carries."""

    channel: str
    chaincode: str
    function: str
    args: tuple[bytes, ...] = ()
    transient: Mapping[str, bytes] | None = None


def as_bytes(args: Sequence[Arg]) -> tuple[bytes, ...]:
    """Chaincode arguments are bytes; strings travel as UTF-8."""
    return tuple(a.encode("utf-8") if isinstance(a, str) else bytes(a) for a in args)


def _serialize(message: Any) -> bytes:
    data: bytes = message.SerializeToString()
    return data


def proposal_bytes(ctx: TransactionContext, call: Invocation) -> bytes:
    """The serialized `peer.Proposal` for an endorser transaction invoking `call`."""
    chaincode_id = chaincode_pb2.ChaincodeID(name=call.chaincode)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.Value("ENDORSER_TRANSACTION"),
        channel_id=call.channel,
        tx_id=ctx.tx_id,
        epoch=0,
        extension=_serialize(proposal_pb2.ChaincodeHeaderExtension(chaincode_id=chaincode_id)),
    )
    channel_header.timestamp.GetCurrentTime()
    signature_header = common_pb2.SignatureHeader(creator=ctx.creator, nonce=ctx.nonce)
    header = common_pb2.Header(
        channel_header=_serialize(channel_header),
        signature_header=_serialize(signature_header),
    )
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(args=[call.function.encode("utf-8"), *call.args]),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=_serialize(invocation), TransientMap=dict(call.transient or {})
    )
    return _serialize(proposal_pb2.Proposal(header=_serialize(header), payload=_serialize(payload)))


def signed_proposal(ctx: TransactionContext, call: Invocation, signer: Signer) -> Any:
    """A `peer.SignedProposal`: the proposal bytes and the signer's signature over them."""
    data = proposal_bytes(ctx, call)
    return proposal_pb2.SignedProposal(proposal_bytes=data, signature=signer.sign(data))


def endorse_request(
    ctx: TransactionContext, call: Invocation, signer: Signer, orgs: Sequence[str] | None
) -> Any:
    """A `gateway.EndorseRequest`, optionally naming the organisations that must endorse."""
    return gateway_pb2.EndorseRequest(
        transaction_id=ctx.tx_id,
        channel_id=call.channel,
        proposed_transaction=signed_proposal(ctx, call, signer),
        endorsing_organizations=list(orgs or ()),
    )


def evaluate_request(
    ctx: TransactionContext, call: Invocation, signer: Signer, orgs: Sequence[str] | None
) -> Any:
    """A `gateway.EvaluateRequest`, optionally naming the organisations to ask."""
    return gateway_pb2.EvaluateRequest(
        transaction_id=ctx.tx_id,
        channel_id=call.channel,
        proposed_transaction=signed_proposal(ctx, call, signer),
        target_organizations=list(orgs or ()),
    )


def submit_request(tx_id: str, channel: str, envelope: Any, signer: Signer) -> Any:
    """A `gateway.SubmitRequest` carrying the endorsed envelope, signed by the client."""
    signed = common_pb2.Envelope(payload=envelope.payload, signature=signer.sign(envelope.payload))
    return gateway_pb2.SubmitRequest(
        transaction_id=tx_id, channel_id=channel, prepared_transaction=signed
    )


def commit_status_request(tx_id: str, channel: str, identity: Identity, signer: Signer) -> Any:
    """A `gateway.SignedCommitStatusRequest` for one transaction."""
    request = _serialize(
        gateway_pb2.CommitStatusRequest(
            transaction_id=tx_id, channel_id=channel, identity=identity.serialized()
        )
    )
    return gateway_pb2.SignedCommitStatusRequest(request=request, signature=signer.sign(request))


def chaincode_events_request(
    channel: str,
    chaincode: str,
    identity: Identity,
    signer: Signer,
    start_block: int | None,
    after_tx_id: str = "",
) -> Any:
    """A `gateway.SignedChaincodeEventsRequest` from a block, or from the next commit if None."""
    if start_block is None:
        position = ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
    else:
        position = ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))
    request = _serialize(
        gateway_pb2.ChaincodeEventsRequest(
            channel_id=channel,
            chaincode_id=chaincode,
            identity=identity.serialized(),
            start_position=position,
            after_transaction_id=after_tx_id,
        )
    )
    return gateway_pb2.SignedChaincodeEventsRequest(request=request, signature=signer.sign(request))


def endorsed_result(envelope: Any) -> bytes:
    """The chaincode's response payload inside an endorsed transaction envelope."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    if not transaction.actions:
        raise ValueError("endorsed transaction carries no chaincode action")
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
        transaction.actions[0].payload
    )
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    chaincode_action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    result: bytes = chaincode_action.response.payload
    return result


def validation_code_name(code: int) -> str:
    """The `TxValidationCode` name of a commit status code, e.g. 11 -> MVCC_READ_CONFLICT."""
    descriptor = transaction_pb2.TxValidationCode.DESCRIPTOR.values_by_number.get(code)
    return str(descriptor.name) if descriptor is not None else f"UNKNOWN_{code}"
