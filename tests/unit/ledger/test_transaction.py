"""Proposal building and envelope reading, without a server."""

from __future__ import annotations

import hashlib

import pytest

from medchain.ledger._protos import common_pb2, proposal_pb2
from medchain.ledger.identity import Identity, Signer
from medchain.ledger.transaction import (
    Invocation,
    TransactionContext,
    as_bytes,
    endorsed_result,
    proposal_bytes,
    transaction_id,
    validation_code_name,
)

from .fake_gateway import decode_proposal, endorsed_envelope


def test_transaction_id_is_hex_sha256_of_nonce_then_creator() -> None:
    assert transaction_id(b"n", b"c") == hashlib.sha256(b"nc").hexdigest()


def test_context_has_a_fresh_24_byte_nonce(user: tuple[Identity, Signer]) -> None:
    identity, _ = user
    first, second = TransactionContext.new(identity), TransactionContext.new(identity)
    assert len(first.nonce) == 24
    assert first.nonce != second.nonce
    assert first.creator == identity.serialized()
    assert first.tx_id == transaction_id(first.nonce, first.creator)


def test_proposal_round_trip(user: tuple[Identity, Signer]) -> None:
    identity, signer = user
    ctx = TransactionContext.new(identity)
    call = Invocation(
        "medchain", "medchain", "study:OpenRound", as_bytes(["s-1", b"2"]), {"k": b"v"}
    )
    data = proposal_bytes(ctx, call)
    signed = proposal_pb2.SignedProposal(proposal_bytes=data, signature=signer.sign(data))

    decoded = decode_proposal("endorse", signed, [])

    assert decoded.tx_id == ctx.tx_id
    assert decoded.header_type == common_pb2.HeaderType.Value("ENDORSER_TRANSACTION")
    assert (decoded.channel, decoded.chaincode, decoded.function) == (
        "medchain",
        "medchain",
        "study:OpenRound",
    )
    assert decoded.args == (b"s-1", b"2")
    assert decoded.transient == {"k": b"v"}
    assert (decoded.nonce, decoded.creator) == (ctx.nonce, ctx.creator)


def test_endorsed_result_is_read_from_the_chaincode_action(user: tuple[Identity, Signer]) -> None:
    identity, signer = user
    ctx = TransactionContext.new(identity)
    data = proposal_bytes(ctx, Invocation("medchain", "medchain", "Get"))
    signed = proposal_pb2.SignedProposal(proposal_bytes=data, signature=signer.sign(data))
    envelope = endorsed_envelope(decode_proposal("endorse", signed, []), b'{"x":1}')

    assert endorsed_result(envelope) == b'{"x":1}'


def test_envelope_without_actions_is_refused() -> None:
    empty = common_pb2.Envelope(payload=common_pb2.Payload().SerializeToString())
    with pytest.raises(ValueError, match="no chaincode action"):
        endorsed_result(empty)


def test_validation_code_names() -> None:
    assert validation_code_name(0) == "VALID"
    assert validation_code_name(11) == "MVCC_READ_CONFLICT"
    assert validation_code_name(12) == "PHANTOM_READ_CONFLICT"
    assert validation_code_name(99) == "UNKNOWN_99"
