"""Who endorsed a committed transaction, read from qscc's `ProcessedTransaction` bytes."""

from __future__ import annotations

import importlib

from medchain.dashboard.ledger_reads import endorsing_msps

_common = importlib.import_module("fabric_protos.common.common_pb2")
_identities = importlib.import_module("fabric_protos.msp.identities_pb2")
_transaction = importlib.import_module("fabric_protos.peer.transaction_pb2")
_proposal_response = importlib.import_module("fabric_protos.peer.proposal_response_pb2")


def processed_transaction(*endorsers: str) -> bytes:
    endorsements = [
        _proposal_response.Endorsement(
            endorser=_identities.SerializedIdentity(
                mspid=msp, id_bytes=b"-----BEGIN CERTIFICATE-----"
            ).SerializeToString(),
            signature=b"sig",
        )
        for msp in endorsers
    ]
    action = _transaction.ChaincodeActionPayload(
        action=_transaction.ChaincodeEndorsedAction(
            proposal_response_payload=b"", endorsements=endorsements
        )
    )
    transaction = _transaction.Transaction(
        actions=[_transaction.TransactionAction(payload=action.SerializeToString())]
    )
    payload = _common.Payload(data=transaction.SerializeToString())
    raw: bytes = _transaction.ProcessedTransaction(
        transactionEnvelope=_common.Envelope(payload=payload.SerializeToString()),
        validationCode=0,
    ).SerializeToString()
    return raw


def test_endorsing_msps_are_read_from_the_transaction_sorted_and_unique() -> None:
    raw = processed_transaction("h3MSP", "h1MSP", "h3MSP")
    assert endorsing_msps(raw) == ("h1MSP", "h3MSP")


def test_a_transaction_without_endorsements_has_none() -> None:
    assert endorsing_msps(processed_transaction()) == ()
