"""Consent tables: documents, the outbox of changes, proofs, and the persisted permission cache.

Times are stored as naive UTC (as in every MedChain store) and handed out UTC-aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from medchain.common.db import Base
from medchain.consent.changes import Change

#: Rows per IN (...) clause or executemany chunk: far below SQLite's and PostgreSQL's limits.
CHUNK = 500


def to_db(value: dt.datetime | None) -> dt.datetime | None:
    """An aware time as naive UTC for storage."""
    return None if value is None else value.astimezone(dt.UTC).replace(tzinfo=None)


def from_db(value: dt.datetime | None) -> dt.datetime | None:
    """A stored naive UTC time as an aware one."""
    return None if value is None else value.replace(tzinfo=dt.UTC)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SubmissionRow(Base):
    """One accepted request: its changes are reported together at `/submissions/{id}`."""

    __tablename__ = "consent_submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    client: Mapped[str] = mapped_column(String(256))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    change_count: Mapped[int] = mapped_column(Integer)


class DocumentRow(Base):
    """A consent document as received (FHIR Consent, compact item, or a revocation record)."""

    __tablename__ = "consent_documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)


class ChangeRow(Base):
    """The outbox: one consent change per row, taken in `seq` order (FIFO per key)."""

    __tablename__ = "consent_changes"
    __table_args__ = (
        Index("ix_consent_changes_state_seq", "state", "seq"),
        Index("ix_consent_changes_key", "pseudonym", "study"),
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[str] = mapped_column(String(32), unique=True)
    submission_id: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[str] = mapped_column(String(32))
    org: Mapped[str] = mapped_column(String(128))
    pseudonym: Mapped[str] = mapped_column(String(64))
    study: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str | None] = mapped_column(String(8))
    valid_from: Mapped[dt.datetime | None] = mapped_column(DateTime)
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    document_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    doubt_checks: Mapped[int] = mapped_column(Integer, default=0)
    last_tx_id: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    tx_id: Mapped[str | None] = mapped_column(String(64), index=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    ledger_version: Mapped[int | None] = mapped_column(Integer)
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TransactionRow(Base):
    """What the ledger says about a committed transaction: block and endorsing organisations."""

    __tablename__ = "consent_transactions"
    tx_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    endorsers: Mapped[str | None] = mapped_column(Text)


class PermissionRow(Base):
    """The permission cache, persisted: the ledger's state of each of this org's consent keys."""

    __tablename__ = "consent_permissions"
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    study: Mapped[str] = mapped_column(String(128), primary_key=True)
    decision: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime)
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer)
    tx_id: Mapped[str] = mapped_column(String(64))


class CheckpointRow(Base):
    """Where the event follower stands (a `medchain.ledger.Checkpoint` as JSON)."""

    __tablename__ = "consent_checkpoints"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    checkpoint: Mapped[str] = mapped_column(Text)


#: In the field order of `Change`, so a row unpacks into one.
CHANGE_COLUMNS = (
    ChangeRow.seq,
    ChangeRow.change_id,
    ChangeRow.submission_id,
    ChangeRow.position,
    ChangeRow.org,
    ChangeRow.pseudonym,
    ChangeRow.study,
    ChangeRow.action,
    ChangeRow.decision,
    ChangeRow.valid_from,
    ChangeRow.valid_until,
    ChangeRow.document_hash,
    ChangeRow.state,
    ChangeRow.last_tx_id,
    ChangeRow.doubt_checks,
    ChangeRow.submitted_at,
    ChangeRow.tx_id,
    ChangeRow.block_number,
    ChangeRow.ledger_version,
    ChangeRow.reason_code,
    ChangeRow.reason,
)


def select_changes() -> Any:
    """A SELECT of every column `Change` needs; add WHERE and ORDER BY."""
    return select(*CHANGE_COLUMNS)


def change_from_row(row: Any) -> Change:
    """A `Change` from a row of `select_changes()` (its columns are in `Change`'s field order)."""
    values = list(row)
    for i in _TIME_POSITIONS:
        if values[i] is not None:
            values[i] = values[i].replace(tzinfo=dt.UTC)
    return Change(*values)


_TIME_POSITIONS = tuple(
    i for i, column in enumerate(CHANGE_COLUMNS) if isinstance(column.type, DateTime)
)
