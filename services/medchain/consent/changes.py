"""Consent changes: what the service writes to the ledger, one (patient, study) key at a time.

A change is born `pending` in the same database transaction as its document, becomes `submitting`
while a transaction carries it, and ends `committed` (with the transaction id and block) or
`rejected` (with the chaincode's reason). `in_doubt` means a transaction carrying it was handed to
the orderer but its fate was not learnt (a commit-status timeout, a peer outage, a crash): the
outbox settles that from the ledger before it submits the change again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from medchain.ledger import Consent, ConsentInput

Action = Literal["record", "revoke"]
Decision = Literal["permit", "deny"]
ChangeState = Literal["pending", "submitting", "in_doubt", "committed", "rejected"]
FINAL_STATES: frozenset[str] = frozenset({"committed", "rejected"})
#: The ledger needs a `validFrom`; a period without a start is valid since the Unix epoch.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class NewChange:
    """A validated change before it is stored; `document` indexes the request's documents."""

    pseudonym: str
    study: str
    action: Action
    decision: Decision | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    document: int


@dataclass(frozen=True, slots=True)
class Change:
    """A stored change as the outbox handles it (times are UTC-aware)."""

    seq: int
    change_id: str
    submission_id: str
    position: int
    org: str
    pseudonym: str
    study: str
    action: Action
    decision: Decision | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    document_hash: str
    state: ChangeState
    last_tx_id: str | None = None
    doubt_checks: int = 0
    submitted_at: dt.datetime | None = None
    tx_id: str | None = None
    block_number: int | None = None
    ledger_version: int | None = None
    reason_code: str | None = None
    reason: str | None = None

    @property
    def key(self) -> Key:
        """The ledger key within this hospital's org: (pseudonym, study)."""
        return (self.pseudonym, self.study)

    def ledger_input(self) -> ConsentInput:
        """The `ConsentInput` of a record change."""
        if self.action != "record" or self.decision is None or self.valid_from is None:
            raise ValueError(f"change {self.change_id} is not a record")
        return ConsentInput(
            pseudonym=self.pseudonym,
            org=self.org,
            study=self.study,
            decision=self.decision,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            document_hash=self.document_hash,
        )

    def written_by(self, consent: Consent) -> bool:
        """Whether the ledger's current consent is exactly what this change writes."""
        if consent.document_hash != self.document_hash:
            return False
        if self.action == "revoke":
            return consent.status == "revoked"
        return (
            consent.status == "active"
            and consent.decision == self.decision
            and consent.valid_from == self.valid_from
            and consent.valid_until == self.valid_until
        )


@dataclass(frozen=True, slots=True)
class Committed:
    """A change's commit: transaction, block, and the key's version if the result showed it."""

    seq: int
    tx_id: str
    block_number: int
    version: int | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A change the chaincode refused, with its coded reason (e.g. PERMISSION_DENIED)."""

    seq: int
    code: str
    reason: str
