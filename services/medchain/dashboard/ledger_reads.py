"""What the dashboard reads from the ledger beyond the study contract: chaincode events from the
first block, who endorsed a committed transaction and the channel height (both from the peer's
query system chaincode `qscc`). Behind a Protocol so unit tests use a fake."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from google.protobuf.message import DecodeError

from medchain.ledger import Checkpoint, LedgerError, Network
from medchain.ledger.events import ChaincodeEvent

_common = importlib.import_module("fabric_protos.common.common_pb2")
_ledger = importlib.import_module("fabric_protos.common.ledger_pb2")
_identities = importlib.import_module("fabric_protos.msp.identities_pb2")
_transaction = importlib.import_module("fabric_protos.peer.transaction_pb2")


class EventStream(AbstractContextManager["EventStream"], Protocol):
    """Chaincode events in ledger order, with the checkpoint past the last one handed out."""

    @property
    def checkpoint(self) -> Checkpoint | None: ...

    def __iter__(self) -> Iterator[ChaincodeEvent]: ...

    def close(self) -> None: ...


class LedgerReads(Protocol):
    """The dashboard's own ledger reads."""

    def events(self, checkpoint: Checkpoint | None) -> EventStream:
        """Events after `checkpoint`; None: from the first block."""
        ...

    def endorsers(self, tx_id: str) -> tuple[str, ...]: ...

    def height(self) -> int: ...


def endorsing_msps(processed_transaction: bytes) -> tuple[str, ...]:
    """The MSP ids (sorted) whose endorsements a qscc `ProcessedTransaction` carries."""
    processed = _transaction.ProcessedTransaction.FromString(processed_transaction)
    payload = _common.Payload.FromString(processed.transactionEnvelope.payload)
    transaction = _transaction.Transaction.FromString(payload.data)
    endorsers: set[str] = set()
    for action in transaction.actions:
        action_payload = _transaction.ChaincodeActionPayload.FromString(action.payload)
        for endorsement in action_payload.action.endorsements:
            identity = _identities.SerializedIdentity.FromString(endorsement.endorser)
            endorsers.add(str(identity.mspid))
    return tuple(sorted(endorsers))


class FabricLedgerReads:
    """`LedgerReads` over a channel of a gateway connection; endorsers are cached per tx id
    (a committed transaction never changes)."""

    def __init__(self, network: Network, chaincode: str = "medchain") -> None:
        self.network = network
        self.chaincode = chaincode
        self._qscc = network.get_contract("qscc")
        self._endorsers: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def events(self, checkpoint: Checkpoint | None) -> EventStream:
        if checkpoint is None:
            return self.network.chaincode_events(self.chaincode, start_block=0)
        return self.network.chaincode_events(self.chaincode, checkpoint=checkpoint)

    def endorsers(self, tx_id: str) -> tuple[str, ...]:
        with self._lock:
            known = self._endorsers.get(tx_id)
        if known is not None:
            return known
        raw = self._qscc.evaluate("GetTransactionByID", self.network.name, tx_id)
        try:
            found = endorsing_msps(raw)
        except (DecodeError, ValueError) as exc:
            raise LedgerError(
                f"qscc returned an unreadable transaction: {exc}", tx_id=tx_id
            ) from exc
        with self._lock:
            self._endorsers[tx_id] = found
        return found

    def height(self) -> int:
        raw = self._qscc.evaluate("GetChainInfo", self.network.name)
        try:
            return int(_ledger.BlockchainInfo.FromString(raw).height)
        except DecodeError as exc:
            raise LedgerError(f"qscc returned unreadable chain info: {exc}") from exc
