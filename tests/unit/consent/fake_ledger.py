"""An in-memory ledger with the consent contract's rules, for unit tests (no network).

It follows docs/ledger-interface.md: versions per key, the caller's MSP must own what it writes,
revoke needs an active consent, one `ConsentRecorded` event per transaction. Failures are
scripted: `fail_before_order` raises before anything is written (as an endorsement or orderer
outage would), `lose_commit_status` writes and then hides the outcome (a commit-status timeout).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType

from medchain.consent.ledger_access import TransactionFacts
from medchain.ledger import (
    ChaincodeConflict,
    ChaincodeInvalidArgument,
    ChaincodeNotFound,
    ChaincodePermissionDenied,
    Checkpoint,
    CommitStatus,
    Consent,
    ConsentBatch,
    ConsentHistoryEntry,
    ConsentInput,
    FilterResult,
    LedgerError,
    LedgerTimeout,
    LedgerUnavailable,
)
from medchain.ledger import Committed as LedgerCommitted
from medchain.ledger.events import ChaincodeEvent
from medchain.ledger.results import VALID

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
Key = tuple[str, str, str]


class FakeEventStream:
    """Events after a checkpoint, blocking for new ones until closed."""

    def __init__(self, ledger: FakeLedger, checkpoint: Checkpoint | None) -> None:
        self.ledger = ledger
        self.checkpoint = checkpoint
        self._closed = False

    def __iter__(self) -> Iterator[ChaincodeEvent]:
        index = 0
        while True:
            with self.ledger.changed:
                while not self._closed and index >= len(self.ledger.emitted):
                    if self.ledger.break_events:
                        self.ledger.break_events = False
                        raise LedgerUnavailable("events unavailable", phase="events")
                    self.ledger.changed.wait(0.05)
                if self._closed:
                    return
                event = self.ledger.emitted[index]
            index += 1
            if self.checkpoint is not None and self.checkpoint.covers(event):
                continue
            self.checkpoint = (
                self.checkpoint.after(event)
                if self.checkpoint is not None
                else Checkpoint(block_number=event.block_number, tx_ids=(event.tx_id,))
            )
            yield event

    def close(self) -> None:
        with self.ledger.changed:
            self._closed = True
            self.ledger.changed.notify_all()

    def __enter__(self) -> FakeEventStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class FakeLedger:
    """`LedgerAccess` in memory; `caller_msp` is the identity the service signs with."""

    def __init__(self, caller_msp: str = "h1MSP") -> None:
        self.caller_msp = caller_msp
        self.now = NOW
        self.block = 4
        self.state: dict[Key, Consent] = {}
        self.history_of: dict[Key, list[ConsentHistoryEntry]] = {}
        self.transactions: dict[str, tuple[int, tuple[Consent, ...]]] = {}
        self.emitted: list[ChaincodeEvent] = []
        self.changed = threading.Condition()
        self.fail_before_order: list[LedgerError] = []
        self.lose_commit_status = 0
        self.commit_status_errors: list[LedgerError] = []
        self.break_events = False
        self.batches: list[int] = []
        self.write_calls = 0
        self.transaction_reads = 0
        self.read_errors: list[LedgerError] = []

    # -- writes --------------------------------------------------------------------------------

    def _begin_write(self) -> None:
        self.write_calls += 1
        if self.fail_before_order:
            raise self.fail_before_order.pop(0)

    def _commit(self, consents: list[Consent], tx_id: str) -> int:
        with self.changed:
            self.block += 1
            for c in consents:
                key = (c.org, c.pseudonym, c.study)
                self.state[key] = c
                self.history_of.setdefault(key, []).append(
                    ConsentHistoryEntry(
                        tx_id=tx_id, timestamp=c.timestamp, is_delete=False, consent=c
                    )
                )
            self.transactions[tx_id] = (self.block, tuple(consents))
            payload = {
                "txId": tx_id,
                "changes": [
                    {
                        "org": c.org,
                        "pseudonym": c.pseudonym,
                        "study": c.study,
                        "decision": c.decision,
                        "status": c.status,
                        "version": c.version,
                    }
                    for c in consents
                ],
            }
            self.emitted.append(
                ChaincodeEvent(self.block, tx_id, "ConsentRecorded", json.dumps(payload).encode())
            )
            self.changed.notify_all()
            return self.block

    def _maybe_lose(self, tx_id: str) -> None:
        if self.lose_commit_status:
            self.lose_commit_status -= 1
            raise LedgerTimeout("commit_status timed out", tx_id=tx_id, phase="commit_status")

    def _require_org(self, org: str) -> None:
        if org != self.caller_msp:
            reason = f"caller MSP {self.caller_msp} may not write consents of org {org}"
            raise ChaincodePermissionDenied(f"PERMISSION_DENIED: {reason}", reason=reason)

    def record_batch(self, consents: Sequence[ConsentInput]) -> LedgerCommitted[ConsentBatch]:
        self._begin_write()
        keys = [(c.org, c.pseudonym, c.study) for c in consents]
        if not 1 <= len(consents) <= 1000 or len(set(keys)) != len(keys):
            raise ChaincodeInvalidArgument(
                "INVALID_ARGUMENT: consents: bad batch", reason="bad batch", field="consents"
            )
        for i, c in enumerate(consents):
            if c.valid_until is not None and c.valid_until <= c.valid_from:
                field = f"consents[{i}].validUntil"
                raise ChaincodeInvalidArgument(
                    f"INVALID_ARGUMENT: {field}: must be after validFrom",
                    reason="must be after validFrom",
                    field=field,
                )
            self._require_org(c.org)
        tx_id = secrets.token_hex(32)
        written = []
        for key, c in zip(keys, consents, strict=True):
            previous = self.state.get(key)
            written.append(
                Consent(
                    **c.model_dump(),
                    status="active",
                    version=(previous.version if previous else 0) + 1,
                    tx_id=tx_id,
                    timestamp=self.now,
                )
            )
        block = self._commit(written, tx_id)
        self.batches.append(len(written))
        self._maybe_lose(tx_id)
        batch = ConsentBatch(count=len(written), tx_id=tx_id, consents=written)
        return LedgerCommitted(batch, tx_id, block)

    def revoke(
        self, org: str, pseudonym: str, study: str, document_hash: str
    ) -> LedgerCommitted[Consent]:
        self._begin_write()
        self._require_org(org)
        previous = self.state.get((org, pseudonym, study))
        if previous is None:
            what = f"consent ({org}, {pseudonym}, {study})"
            raise ChaincodeNotFound(f"NOT_FOUND: {what}", reason=what)
        if previous.status == "revoked":
            reason = "already revoked"
            raise ChaincodeConflict(f"CONFLICT: {reason}", reason=reason)
        tx_id = secrets.token_hex(32)
        revoked = previous.model_copy(
            update={
                "status": "revoked",
                "document_hash": document_hash,
                "version": previous.version + 1,
                "tx_id": tx_id,
                "timestamp": self.now,
            }
        )
        block = self._commit([revoked], tx_id)
        self._maybe_lose(tx_id)
        return LedgerCommitted(revoked, tx_id, block)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, org: str, pseudonym: str, study: str) -> Consent:
        if self.read_errors:
            raise self.read_errors.pop(0)
        found = self.state.get((org, pseudonym, study))
        if found is None:
            what = f"consent ({org}, {pseudonym}, {study})"
            raise ChaincodeNotFound(f"NOT_FOUND: {what}", reason=what)
        return found

    def history(self, org: str, pseudonym: str, study: str) -> list[ConsentHistoryEntry]:
        return list(self.history_of.get((org, pseudonym, study), []))

    def filter_permitted(self, org: str, study: str, pseudonyms: Sequence[str]) -> FilterResult:
        permitted = [
            p
            for p in pseudonyms
            if (c := self.state.get((org, p, study))) is not None and c.permits(self.now)
        ]
        return FilterResult(study=study, org=org, as_of=self.now, permitted=permitted)

    def commit_status(self, tx_id: str) -> CommitStatus:
        if self.commit_status_errors:
            raise self.commit_status_errors.pop(0)
        if tx_id not in self.transactions:
            raise LedgerTimeout("commit_status timed out", tx_id=tx_id, phase="commit_status")
        return CommitStatus(tx_id, VALID, "VALID", self.transactions[tx_id][0])

    def transaction(self, tx_id: str) -> TransactionFacts:
        self.transaction_reads += 1
        _, consents = self.transactions[tx_id]
        return TransactionFacts(tx_id, True, ("h1MSP", "h2MSP"), consents)

    def height(self) -> int:
        return self.block + 1

    def events(self, checkpoint: Checkpoint | None) -> FakeEventStream:
        return FakeEventStream(self, checkpoint)

    # -- for assertions ------------------------------------------------------------------------

    def writes_of(self, org: str, pseudonym: str, study: str) -> int:
        return len(self.history_of.get((org, pseudonym, study), []))
