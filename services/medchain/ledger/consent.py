"""`ConsentLedger`: the `consent` contract of chaincode `medchain` as typed calls and models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from pydantic import TypeAdapter

from medchain.ledger.gateway import Contract, Network
from medchain.ledger.policy import DEFAULT_MVCC_RETRY, RetryPolicy
from medchain.ledger.schema import (
    Committed,
    Hex64,
    Identifier,
    LedgerInput,
    LedgerRecord,
    LedgerTime,
    MspId,
    OptionalLedgerTime,
    TypedContract,
    json_arg,
)

CHAINCODE = "medchain"
CONTRACT = "consent"
#: Most consents one `RecordBatch` transaction may carry.
MAX_RECORD_BATCH = 1000
#: Most pseudonyms one `FilterPermitted` call may check.
MAX_FILTER_PSEUDONYMS = 10000

Decision = Literal["permit", "deny"]
ConsentStatus = Literal["active", "revoked"]


class ConsentInput(LedgerInput):
    """One patient's decision about one study, as the hospital records it."""

    pseudonym: Hex64
    org: MspId
    study: Identifier
    decision: Decision
    valid_from: LedgerTime
    valid_until: OptionalLedgerTime = None
    document_hash: Hex64


class Consent(LedgerRecord):
    """The stored consent of one (org, pseudonym, study) key."""

    pseudonym: str
    org: str
    study: str
    decision: Decision
    valid_from: LedgerTime
    valid_until: OptionalLedgerTime
    document_hash: str
    status: ConsentStatus
    version: int
    tx_id: str
    timestamp: LedgerTime

    def permits(self, at: dt.datetime) -> bool:
        """The chaincode's rule: active, permit, and `valid_from <= at < valid_until`."""
        return (
            self.status == "active"
            and self.decision == "permit"
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )


class ConsentBatch(LedgerRecord):
    """What `RecordBatch` wrote, in one transaction."""

    count: int
    tx_id: str
    consents: list[Consent]


class ConsentHistoryEntry(LedgerRecord):
    """One write of a consent key; `consent` is None for a delete."""

    tx_id: str
    timestamp: LedgerTime
    is_delete: bool
    consent: Consent | None


class FilterResult(LedgerRecord):
    """The pseudonyms, of those asked about, whose consent permits the study now."""

    study: str
    org: str
    as_of: LedgerTime
    permitted: list[str]


class ConsentChange(LedgerRecord):
    """One consent written by a transaction, as the `ConsentRecorded` event lists it."""

    org: str
    pseudonym: str
    study: str
    decision: Decision
    status: ConsentStatus
    version: int


class ConsentRecorded(LedgerRecord):
    """Payload of the `ConsentRecorded` event (one per transaction)."""

    tx_id: str
    changes: list[ConsentChange]


_CONSENT = TypeAdapter(Consent)
_BATCH = TypeAdapter(ConsentBatch)
_HISTORY = TypeAdapter(list[ConsentHistoryEntry])
_FILTER = TypeAdapter(FilterResult)


class ConsentLedger:
    """Record, revoke and query consents. Writes retry MVCC conflicts (see `RetryPolicy`).

    Retrying is safe for every write here: a conflicting transaction changed nothing, and the
    rerun is judged afresh by the chaincode against the state that won.
    """

    def __init__(self, contract: Contract, *, retry: RetryPolicy | None = DEFAULT_MVCC_RETRY):
        self._calls = TypedContract(contract, CONTRACT, retry)

    @classmethod
    def for_network(
        cls,
        network: Network,
        chaincode: str = CHAINCODE,
        *,
        retry: RetryPolicy | None = DEFAULT_MVCC_RETRY,
    ) -> ConsentLedger:
        """The consent contract of `chaincode` on a channel."""
        return cls(network.get_contract(chaincode, CONTRACT), retry=retry)

    def record(self, consent: ConsentInput) -> Committed[Consent]:
        """Write one consent (version 1, or the next version of an existing key)."""
        return self._calls.submit(_CONSENT, "Record", consent.to_arg())

    def record_batch(self, consents: Sequence[ConsentInput]) -> Committed[ConsentBatch]:
        """Write 1..1000 consents with distinct keys in one transaction."""
        return self._calls.submit(_BATCH, "RecordBatch", json_arg(consents))

    def revoke(
        self, org: str, pseudonym: str, study: str, document_hash: str
    ) -> Committed[Consent]:
        """Mark a consent revoked, citing the revocation document."""
        return self._calls.submit(_CONSENT, "Revoke", org, pseudonym, study, document_hash)

    def get(self, org: str, pseudonym: str, study: str) -> Consent:
        """The current consent; `ChaincodeNotFound` if none was recorded."""
        return self._calls.evaluate(_CONSENT, "Get", org, pseudonym, study)

    def history(self, org: str, pseudonym: str, study: str) -> list[ConsentHistoryEntry]:
        """Every write of the key, oldest first."""
        return self._calls.evaluate(_HISTORY, "History", org, pseudonym, study)

    def filter_permitted(self, org: str, study: str, pseudonyms: Sequence[str]) -> FilterResult:
        """Those of up to 10000 pseudonyms whose consent permits `study`, in input order."""
        return self._calls.evaluate(_FILTER, "FilterPermitted", org, study, json_arg(pseudonyms))
