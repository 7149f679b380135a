"""What one outbox job does on the ledger, and what became of each change: no database here.

A job submits a RecordBatch (records of distinct keys), submits one Revoke, or settles changes of
unknown outcome. Its `Outcome` sorts every change into committed, rejected (the chaincode said no,
with its reason), retry (certainly not committed) or in doubt (handed to the orderer, fate not
known yet); the outbox writes that down. Exactly once rests on three rules:

- a change goes back to the queue only when no transaction carrying it can still commit: the
  error came before the orderer accepted it, or its transaction was invalidated;
- a change in doubt is settled from the ledger before it is submitted again: its transaction's
  commit status, else the key's current consent, which must be exactly what the change writes
  and must not be the commit of an earlier change of the same key;
- writes are submitted without the client's MVCC retry, so a conflict with a straggling earlier
  attempt comes back here and is settled as a doubt instead of being written twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from medchain.consent.cache import Permission
from medchain.consent.changes import Change, Committed, Key, Rejected
from medchain.consent.ledger_access import LedgerAccess
from medchain.ledger import (
    ChaincodeError,
    ChaincodeNotFound,
    ChaincodePermissionDenied,
    CommitError,
    Consent,
    ConsentBatch,
    LedgerError,
    LedgerTimeout,
)
from medchain.ledger import Committed as LedgerCommitted
from medchain.ledger.policy import RETRYABLE_VALIDATION_CODES

_BATCH_ITEM = re.compile(r"^consents\[(\d+)\]")
#: (tx id, key) -> whether a committed change of that key already owns that transaction.
Attributed = Callable[[str, Key], bool]


@dataclass
class Outcome:
    """What became of a job's changes."""

    committed: list[Committed] = field(default_factory=list)
    permissions: list[Permission] = field(default_factory=list)
    blocks: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    doubtful: list[tuple[int, str | None, int]] = field(default_factory=list)
    failure: LedgerError | None = None

    def commit(self, change: Change, tx_id: str, block: int, consent: Consent | None) -> None:
        version = consent.version if consent is not None else None
        self.committed.append(Committed(change.seq, tx_id, block, version))
        self.blocks[tx_id] = block
        if consent is not None:
            self.permissions.append(Permission.from_consent(consent))

    def reject(self, changes: Sequence[Change], exc: ChaincodeError) -> None:
        self.rejected += [Rejected(c.seq, exc.code, exc.reason) for c in changes]

    def doubt(self, changes: Sequence[Change], tx_id: str | None, checks: int) -> None:
        self.doubtful += [(c.seq, tx_id, checks) for c in changes]

    def fail(self, changes: Sequence[Change], exc: LedgerError) -> None:
        """Sort changes whose transaction failed by whether it may still commit."""
        self.failure = exc
        if isinstance(exc, CommitError):
            if exc.validation_code in RETRYABLE_VALIDATION_CODES:
                # Someone wrote these keys first; only an earlier attempt of ours can have.
                self.doubt(changes, None, 0)
            else:
                self.retry += [c.seq for c in changes]
        elif exc.phase == "commit_status" or (
            exc.phase == "submit" and isinstance(exc, LedgerTimeout)
        ):
            self.doubt(changes, exc.tx_id, 0)
        else:
            self.retry += [c.seq for c in changes]


def _failing_item(exc: ChaincodeError, size: int) -> int | None:
    match = _BATCH_ITEM.match(exc.field or "")
    index = int(match.group(1)) if match else None
    return index if index is not None and index < size else None


def _batch_committed(
    outcome: Outcome, part: Sequence[Change], done: LedgerCommitted[ConsentBatch]
) -> None:
    written = {(c.pseudonym, c.study): c for c in done.value.consents}
    for change in part:
        outcome.commit(change, done.tx_id, done.block_number, written.get(change.key))


def submit_records(ledger: LedgerAccess, changes: Sequence[Change]) -> Outcome:
    """Record changes of distinct keys in one RecordBatch; when the chaincode refuses an item,
    reject it and submit the rest (an unattributed refusal is bisected down to its item)."""
    outcome = Outcome()
    stack = [list(changes)]
    while stack:
        part = stack.pop()
        try:
            done = ledger.record_batch([c.ledger_input() for c in part])
        except ChaincodeError as exc:
            index = _failing_item(exc, len(part))
            if isinstance(exc, ChaincodePermissionDenied) or len(part) == 1:
                outcome.reject(part, exc)
            elif index is not None:
                outcome.reject([part[index]], exc)
                stack.append(part[:index] + part[index + 1 :])
            else:
                half = len(part) // 2
                stack += [part[half:], part[:half]]
            continue
        except LedgerError as exc:
            outcome.fail([c for p in [part, *stack] for c in p], exc)
            return outcome
        _batch_committed(outcome, part, done)
    return outcome


def submit_revoke(ledger: LedgerAccess, change: Change) -> Outcome:
    """Revoke one consent."""
    outcome = Outcome()
    try:
        done = ledger.revoke(change.org, change.pseudonym, change.study, change.document_hash)
    except ChaincodeError as exc:
        outcome.reject([change], exc)
    except LedgerError as exc:
        outcome.fail([change], exc)
    else:
        outcome.commit(change, done.tx_id, done.block_number, done.value)
    return outcome


def settle(
    ledger: LedgerAccess,
    changes: Sequence[Change],
    tx_id: str | None,
    checks: int,
    max_checks: int,
    attributed: Attributed,
) -> Outcome:
    """Find out whether changes of unknown outcome were committed by `tx_id` (if known) or by any
    earlier attempt; those that certainly were not go back to the queue."""
    outcome = Outcome()
    if tx_id is not None and checks < max_checks:
        try:
            status = ledger.commit_status(tx_id)
        except LedgerTimeout as exc:
            checks += 1
            if checks < max_checks:
                outcome.failure = exc
                outcome.doubt(changes, tx_id, checks)
                return outcome
        except LedgerError as exc:
            outcome.failure = exc
            outcome.doubt(changes, tx_id, checks)
            return outcome
        else:
            if status.successful:
                for change in changes:
                    outcome.commit(change, tx_id, status.block_number, None)
                return outcome
            if status.validation_code not in RETRYABLE_VALIDATION_CODES:
                outcome.retry += [c.seq for c in changes]
                return outcome
    _settle_from_state(ledger, changes, tx_id, checks, attributed, outcome)
    return outcome


def _settle_from_state(
    ledger: LedgerAccess,
    changes: Sequence[Change],
    tx_id: str | None,
    checks: int,
    attributed: Attributed,
    outcome: Outcome,
) -> None:
    for i, change in enumerate(changes):
        try:
            try:
                current: Consent | None = ledger.get(change.org, change.pseudonym, change.study)
            except ChaincodeNotFound:
                current = None
            ours = (
                current is not None
                and change.written_by(current)
                and (current.tx_id == tx_id or not attributed(current.tx_id, change.key))
            )
            if current is None or not ours:
                outcome.retry.append(change.seq)
                continue
            block = outcome.blocks.get(current.tx_id)
            if block is None:
                block = ledger.commit_status(current.tx_id).block_number
            outcome.commit(change, current.tx_id, block, current)
        except LedgerError as exc:
            outcome.failure = exc
            outcome.doubt(changes[i:], tx_id, checks)
            return
