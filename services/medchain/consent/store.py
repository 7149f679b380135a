"""Queries of the consent database: submissions, the outbox, proofs, and the permission cache."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from medchain.consent.changes import Change, ChangeState, Committed, Rejected
from medchain.consent.tables import (
    ChangeRow,
    CheckpointRow,
    DocumentRow,
    PermissionRow,
    SubmissionRow,
    TransactionRow,
    change_from_row,
    chunks,
    select_changes,
    to_db,
)

OPEN_STATES: tuple[ChangeState, ...] = ("pending", "submitting", "in_doubt")
_PERMISSION_UPDATES = (
    "decision",
    "status",
    "valid_from",
    "valid_until",
    "version",
    "tx_id",
)


def _update_by_seq(session: Session, columns: set[str], rows: Sequence[dict[str, Any]]) -> None:
    """One compiled UPDATE ... WHERE seq = ?, executed for many rows (executemany)."""
    if not rows:
        return
    table = cast(Table, ChangeRow.__table__)
    statement = (
        update(table)
        .where(table.c.seq == bindparam("b_seq"))
        .values({name: bindparam(name) for name in sorted(columns)})
    )
    connection = session.connection()
    for part in chunks(rows):
        connection.execute(statement, list(part))


class ConsentStore:
    """Every query of the consent service; each takes the session of the caller's transaction."""

    # -- submissions -------------------------------------------------------------------------

    def add_submission(
        self,
        session: Session,
        submission: dict[str, Any],
        documents: Sequence[dict[str, Any]],
        changes: Sequence[dict[str, Any]],
    ) -> None:
        """Store a request's documents and pending changes (in the caller's transaction)."""
        # Core inserts of plain rows: the ORM's bulk path would only add bookkeeping here.
        connection = session.connection()
        connection.execute(insert(cast(Table, SubmissionRow.__table__)), [submission])
        for table, rows in ((DocumentRow.__table__, documents), (ChangeRow.__table__, changes)):
            for part in chunks(rows):
                connection.execute(insert(cast(Table, table)), list(part))

    def submission(self, session: Session, submission_id: str) -> SubmissionRow | None:
        return session.get(SubmissionRow, submission_id)

    def open_count(self, session: Session, submission_id: str) -> int:
        """How many changes of a submission are not final yet."""
        query = select(func.count()).where(
            ChangeRow.submission_id == submission_id, ChangeRow.state.in_(OPEN_STATES)
        )
        return int(session.execute(query).scalar_one())

    def submission_changes(self, session: Session, submission_id: str) -> list[Change]:
        rows = session.connection().execute(
            select_changes()
            .where(ChangeRow.submission_id == submission_id)
            .order_by(ChangeRow.position)
        )
        return [change_from_row(r) for r in rows]

    # -- the outbox --------------------------------------------------------------------------

    def pending(self, session: Session, after_seq: int, limit: int) -> list[Change]:
        """Pending changes after `after_seq`, oldest first."""
        rows = session.connection().execute(
            select_changes()
            .where(ChangeRow.state == "pending", ChangeRow.seq > after_seq)
            .order_by(ChangeRow.seq)
            .limit(limit)
        )
        return [change_from_row(r) for r in rows]

    def count_pending(self, session: Session, up_to: int) -> int:
        """How many changes are pending, counting no further than `up_to`."""
        found = select(ChangeRow.seq).where(ChangeRow.state == "pending").limit(up_to).subquery()
        return int(session.execute(select(func.count()).select_from(found)).scalar_one())

    def in_states(self, session: Session, states: Collection[str]) -> list[Change]:
        rows = session.connection().execute(
            select_changes().where(ChangeRow.state.in_(list(states))).order_by(ChangeRow.seq)
        )
        return [change_from_row(r) for r in rows]

    def recover_after_restart(self, session: Session) -> int:
        """Changes a previous process was submitting are of unknown outcome now."""
        result = session.execute(
            update(ChangeRow).where(ChangeRow.state == "submitting").values(state="in_doubt")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def mark_submitting(self, session: Session, seqs: Sequence[int], now: dt.datetime) -> None:
        for part in chunks(seqs):
            session.execute(
                update(ChangeRow)
                .where(ChangeRow.seq.in_(part))
                .values(
                    state="submitting",
                    submitted_at=to_db(now),
                    attempts=ChangeRow.attempts + 1,
                )
            )

    def mark_pending(self, session: Session, seqs: Sequence[int]) -> None:
        """Back to the queue: the transaction certainly did not commit them."""
        for part in chunks(seqs):
            session.execute(
                update(ChangeRow)
                .where(ChangeRow.seq.in_(part))
                .values(state="pending", last_tx_id=None, doubt_checks=0)
            )

    def mark_in_doubt(
        self, session: Session, seqs: Sequence[int], tx_id: str | None, checks: int
    ) -> None:
        for part in chunks(seqs):
            session.execute(
                update(ChangeRow)
                .where(ChangeRow.seq.in_(part))
                .values(state="in_doubt", last_tx_id=tx_id, doubt_checks=checks)
            )

    def mark_committed(
        self, session: Session, commits: Sequence[Committed], now: dt.datetime
    ) -> None:
        finished = to_db(now)
        _update_by_seq(
            session,
            {"state", "tx_id", "block_number", "ledger_version", "finished_at"},
            [
                {
                    "b_seq": c.seq,
                    "state": "committed",
                    "tx_id": c.tx_id,
                    "block_number": c.block_number,
                    "ledger_version": c.version,
                    "finished_at": finished,
                }
                for c in commits
            ],
        )

    def mark_rejected(
        self, session: Session, rejections: Sequence[Rejected], now: dt.datetime
    ) -> None:
        finished = to_db(now)
        _update_by_seq(
            session,
            {"state", "reason_code", "reason", "finished_at"},
            [
                {
                    "b_seq": r.seq,
                    "state": "rejected",
                    "reason_code": r.code,
                    "reason": r.reason,
                    "finished_at": finished,
                }
                for r in rejections
            ],
        )

    def committed_in(self, session: Session, tx_id: str) -> list[Change]:
        """The changes a transaction committed."""
        rows = session.connection().execute(select_changes().where(ChangeRow.tx_id == tx_id))
        return [change_from_row(r) for r in rows]

    # -- one patient -------------------------------------------------------------------------

    def studies_of(self, session: Session, pseudonym: str) -> list[str]:
        """Every study key this service has a change for, sorted."""
        rows = session.execute(
            select(ChangeRow.study).where(ChangeRow.pseudonym == pseudonym).distinct()
        )
        return sorted(r[0] for r in rows)

    def open_changes_of(self, session: Session, pseudonym: str, study: str | None) -> list[Change]:
        condition = and_(ChangeRow.pseudonym == pseudonym, ChangeRow.state.in_(OPEN_STATES))
        if study is not None:
            condition = and_(condition, ChangeRow.study == study)
        rows = session.connection().execute(
            select_changes().where(condition).order_by(ChangeRow.seq)
        )
        return [change_from_row(r) for r in rows]

    def has_change(self, session: Session, pseudonym: str, study: str) -> bool:
        """Whether any change of the key is stored (open or final)."""
        row = session.execute(
            select(ChangeRow.seq)
            .where(ChangeRow.pseudonym == pseudonym, ChangeRow.study == study)
            .limit(1)
        ).first()
        return row is not None

    # -- proofs --------------------------------------------------------------------------------

    def transaction(self, session: Session, tx_id: str) -> TransactionRow | None:
        return session.get(TransactionRow, tx_id)

    def save_transaction(
        self, session: Session, tx_id: str, block_number: int, endorsers: Sequence[str] | None
    ) -> None:
        row = session.get(TransactionRow, tx_id)
        text = json.dumps(list(endorsers)) if endorsers is not None else None
        if row is None:
            session.add(TransactionRow(tx_id=tx_id, block_number=block_number, endorsers=text))
        elif text is not None:
            row.endorsers = text

    # -- the permission cache ------------------------------------------------------------------

    def permissions(self, session: Session) -> Iterable[PermissionRow]:
        return session.scalars(select(PermissionRow)).yield_per(5000)

    def upsert_permissions(self, session: Session, entries: Sequence[dict[str, Any]]) -> None:
        """Insert or update cache rows, never replacing a newer version with an older one."""
        if not entries:
            return
        table = PermissionRow.__table__
        dialect = session.get_bind().dialect.name
        builder: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = builder(table)
        statement = statement.on_conflict_do_update(
            index_elements=["pseudonym", "study"],
            set_={name: statement.excluded[name] for name in _PERMISSION_UPDATES},
            where=table.c.version < statement.excluded.version,
        )
        # One compiled statement, many parameter sets (executemany), rather than a VALUES list
        # compiled anew for every call.
        connection = session.connection()
        for part in chunks(entries):
            connection.execute(statement, list(part))

    def checkpoint(self, session: Session, name: str) -> str | None:
        row = session.get(CheckpointRow, name)
        return None if row is None else row.checkpoint

    def save_checkpoint(self, session: Session, name: str, checkpoint: str) -> None:
        row = session.get(CheckpointRow, name)
        if row is None:
            session.add(CheckpointRow(name=name, checkpoint=checkpoint))
        else:
            row.checkpoint = checkpoint

    # -- documents ----------------------------------------------------------------------------

    def document(self, session: Session, document_id: str) -> DocumentRow | None:
        return session.get(DocumentRow, document_id)
