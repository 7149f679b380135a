"""What the consent service asks of the ledger, behind a Protocol so unit tests can use a fake.

`FabricLedgerAccess` is the real thing: the `consent` contract through `medchain.ledger` (without
its automatic MVCC retry: the outbox decides when a change may be submitted again), commit status
by transaction id, and two reads of the peer's query system chaincode `qscc`: a committed
transaction (who endorsed it, which consents it wrote) and the channel height.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import DecodeError
from pydantic import TypeAdapter

from medchain.ledger import (
    Checkpoint,
    CommitStatus,
    Consent,
    ConsentBatch,
    ConsentHistoryEntry,
    ConsentInput,
    ConsentLedger,
    FilterResult,
    Gateway,
    LedgerError,
    Network,
)
from medchain.ledger import Committed as LedgerCommitted
from medchain.ledger.events import ChaincodeEvent

_common = importlib.import_module("fabric_protos.common.common_pb2")
_ledger = importlib.import_module("fabric_protos.common.ledger_pb2")
_identities = importlib.import_module("fabric_protos.msp.identities_pb2")
_transaction = importlib.import_module("fabric_protos.peer.transaction_pb2")
_proposal = importlib.import_module("fabric_protos.peer.proposal_pb2")
_proposal_response = importlib.import_module("fabric_protos.peer.proposal_response_pb2")
_rwset = importlib.import_module("fabric_protos.ledger.rwset.rwset_pb2")
_kv_rwset = importlib.import_module("fabric_protos.ledger.rwset.kvrwset.kv_rwset_pb2")
_CONSENT = TypeAdapter(Consent)
#: World-state keys of consents: the composite key prefix of object type `consent`.
CONSENT_KEY_PREFIX = "\x00consent\x00"
VALID = 0


@dataclass(frozen=True, slots=True)
class TransactionFacts:
    """What a committed transaction shows: its validity, who endorsed it, the consents it wrote."""

    tx_id: str
    valid: bool
    endorsers: tuple[str, ...]
    consents: tuple[Consent, ...]


class EventStream(AbstractContextManager["EventStream"], Protocol):
    """Chaincode events in ledger order, with the checkpoint past the last one handed out."""

    @property
    def checkpoint(self) -> Checkpoint | None: ...

    def __iter__(self) -> Iterator[ChaincodeEvent]: ...

    def close(self) -> None: ...


class LedgerAccess(Protocol):
    """The ledger calls of the consent service."""

    def record_batch(self, consents: Sequence[ConsentInput]) -> LedgerCommitted[ConsentBatch]: ...

    def revoke(
        self, org: str, pseudonym: str, study: str, document_hash: str
    ) -> LedgerCommitted[Consent]: ...

    def get(self, org: str, pseudonym: str, study: str) -> Consent: ...

    def history(self, org: str, pseudonym: str, study: str) -> list[ConsentHistoryEntry]: ...

    def filter_permitted(self, org: str, study: str, pseudonyms: Sequence[str]) -> FilterResult: ...

    def commit_status(self, tx_id: str) -> CommitStatus: ...

    def transaction(self, tx_id: str) -> TransactionFacts: ...

    def height(self) -> int: ...

    def events(self, checkpoint: Checkpoint | None) -> EventStream: ...


def transaction_facts(tx_id: str, chaincode: str, processed_transaction: bytes) -> TransactionFacts:
    """Read qscc's `ProcessedTransaction`: endorsing MSP ids (sorted) and the consent values the
    transaction wrote in the chaincode's namespace. Raises DecodeError or ValueError."""
    processed = _transaction.ProcessedTransaction.FromString(processed_transaction)
    payload = _common.Payload.FromString(processed.transactionEnvelope.payload)
    transaction = _transaction.Transaction.FromString(payload.data)
    endorsers: set[str] = set()
    consents: list[Consent] = []
    for action in transaction.actions:
        action_payload = _transaction.ChaincodeActionPayload.FromString(action.payload)
        for endorsement in action_payload.action.endorsements:
            endorsers.add(
                str(_identities.SerializedIdentity.FromString(endorsement.endorser).mspid)
            )
        response = _proposal_response.ProposalResponsePayload.FromString(
            action_payload.action.proposal_response_payload
        )
        results = _proposal.ChaincodeAction.FromString(response.extension).results
        for namespace in _rwset.TxReadWriteSet.FromString(results).ns_rwset:
            if namespace.namespace != chaincode:
                continue
            for write in _kv_rwset.KVRWSet.FromString(namespace.rwset).writes:
                if str(write.key).startswith(CONSENT_KEY_PREFIX) and not write.is_delete:
                    consents.append(_CONSENT.validate_json(write.value))
    return TransactionFacts(
        tx_id, int(processed.validationCode) == VALID, tuple(sorted(endorsers)), tuple(consents)
    )


def chain_height(blockchain_info: bytes) -> int:
    """The height (number of blocks) in qscc's `BlockchainInfo`."""
    return int(_ledger.BlockchainInfo.FromString(blockchain_info).height)


class FabricLedgerAccess:
    """`LedgerAccess` over one gateway connection to the hospital's peer."""

    def __init__(self, gateway: Gateway, channel: str, chaincode: str) -> None:
        self.gateway = gateway
        self.network: Network = gateway.get_network(channel)
        self.chaincode = chaincode
        self.consents = ConsentLedger.for_network(self.network, chaincode, retry=None)
        self._qscc = self.network.get_contract("qscc")

    def record_batch(self, consents: Sequence[ConsentInput]) -> LedgerCommitted[ConsentBatch]:
        return self.consents.record_batch(consents)

    def revoke(
        self, org: str, pseudonym: str, study: str, document_hash: str
    ) -> LedgerCommitted[Consent]:
        return self.consents.revoke(org, pseudonym, study, document_hash)

    def get(self, org: str, pseudonym: str, study: str) -> Consent:
        return self.consents.get(org, pseudonym, study)

    def history(self, org: str, pseudonym: str, study: str) -> list[ConsentHistoryEntry]:
        return self.consents.history(org, pseudonym, study)

    def filter_permitted(self, org: str, study: str, pseudonyms: Sequence[str]) -> FilterResult:
        return self.consents.filter_permitted(org, study, pseudonyms)

    def commit_status(self, tx_id: str) -> CommitStatus:
        return self.network.commit_status(tx_id)

    def transaction(self, tx_id: str) -> TransactionFacts:
        raw = self._qscc.evaluate("GetTransactionByID", self.network.name, tx_id)
        try:
            return transaction_facts(tx_id, self.chaincode, raw)
        except (DecodeError, ValueError) as exc:
            raise LedgerError(
                f"qscc returned an unreadable transaction: {exc}", tx_id=tx_id
            ) from exc

    def height(self) -> int:
        raw = self._qscc.evaluate("GetChainInfo", self.network.name)
        try:
            return chain_height(raw)
        except DecodeError as exc:
            raise LedgerError(f"qscc returned unreadable chain info: {exc}") from exc

    def events(self, checkpoint: Checkpoint | None) -> EventStream:
        start = 0 if checkpoint is None else None
        return self.network.chaincode_events(
            self.chaincode, start_block=start, checkpoint=checkpoint
        )
