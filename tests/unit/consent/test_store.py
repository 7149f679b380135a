"""The consent database on SQLite and PostgreSQL: migrations, the outbox queue, the cache."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import Base, make_engine, make_session_factory, transaction
from medchain.consent import migrations
from medchain.consent.cache import Permission, PermissionCache
from medchain.consent.changes import Change, Committed, Rejected
from medchain.consent.store import ConsentStore
from medchain.consent.tables import CHANGE_COLUMNS
from medchain.ledger import Checkpoint

CONSENT_TABLES = {
    "consent_submissions",
    "consent_documents",
    "consent_changes",
    "consent_transactions",
    "consent_permissions",
    "consent_checkpoints",
}
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _consent_objects(
    obj: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Compare only consent tables and what belongs to them: other services share the base."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return getattr(table, "name", name) in CONSENT_TABLES


def _sessions(database_url: str) -> sessionmaker[Session]:
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    return make_session_factory(engine)


def test_upgrade_builds_the_declared_tables_and_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    migrations.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _consent_objects})
        diff = compare_metadata(context, Base.metadata)
        tables = set(sa.inspect(connection).get_table_names())
    assert diff == []
    assert CONSENT_TABLES | {"alembic_version_consent"} <= tables

    command.downgrade(migrations.alembic_config(engine), "base")
    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) & CONSENT_TABLES == set()
    engine.dispose()


def _change(position: int, pseudonym: str, study: str = "s1") -> dict[str, object]:
    return {
        "change_id": f"c{position}-{pseudonym[:4]}",
        "submission_id": "s" * 32,
        "position": position,
        "document_id": "d" * 32,
        "org": "h1MSP",
        "pseudonym": pseudonym,
        "study": study,
        "action": "record",
        "decision": "permit",
        "valid_from": dt.datetime(2024, 1, 1),
        "valid_until": None,
        "document_hash": "f" * 64,
        "state": "pending",
        "attempts": 0,
        "doubt_checks": 0,
        "created_at": dt.datetime(2026, 6, 1),
    }


def test_the_queue_hands_out_pending_changes_in_order_and_records_their_fate(
    database_url: str,
) -> None:
    sessions = _sessions(database_url)
    store = ConsentStore()
    submission = {
        "id": "s" * 32,
        "kind": "compact",
        "client": "it",
        "received_at": dt.datetime(2026, 6, 1),
        "change_count": 3,
    }
    document = {"id": "d" * 32, "submission_id": "s" * 32, "kind": "compact", "sha256": "f" * 64,
                "content": "{}"}  # fmt: skip
    with transaction(sessions) as session:
        store.add_submission(
            session, submission, [document], [_change(i, f"{i:064x}") for i in range(3)]
        )
    with transaction(sessions) as session:
        pending = store.pending(session, 0, 10)
        store.mark_submitting(session, [pending[0].seq, pending[1].seq], NOW)
        store.mark_committed(session, [Committed(pending[0].seq, "tx1", 7, 1)], NOW)
        store.mark_rejected(session, [Rejected(pending[1].seq, "CONFLICT", "already")], NOW)
        store.mark_in_doubt(session, [pending[2].seq], "tx2", 1)
    with transaction(sessions) as session:
        changes = store.submission_changes(session, "s" * 32)
        after_recovery = store.recover_after_restart(session)
        done = store.committed_in(session, "tx1")

    assert [c.position for c in pending] == [0, 1, 2]
    assert pending[0].valid_from == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert [c.state for c in changes] == ["committed", "rejected", "in_doubt"]
    assert (changes[0].tx_id, changes[0].block_number, changes[0].ledger_version) == ("tx1", 7, 1)
    assert (changes[1].reason_code, changes[2].last_tx_id, changes[2].doubt_checks) == (
        "CONFLICT",
        "tx2",
        1,
    )
    assert after_recovery == 0
    assert [c.position for c in done] == [0]


def test_the_cache_keeps_the_newest_version_and_its_checkpoint(database_url: str) -> None:
    sessions = _sessions(database_url)
    cache = PermissionCache(ConsentStore(), sessions)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    newer = Permission("a" * 64, "s1", "deny", "active", start, None, 2, "tx2")
    older = Permission("a" * 64, "s1", "permit", "active", start, None, 1, "tx1")

    cache.save_event([newer], Checkpoint(block_number=9, tx_ids=("tx2",)), 9)
    cache.save_event([older], Checkpoint(block_number=10, tx_ids=("tx1",)), 10)

    reloaded = PermissionCache(ConsentStore(), sessions)
    checkpoint = reloaded.load()
    assert reloaded.get("a" * 64, "s1") == newer
    assert checkpoint == Checkpoint(block_number=10, tx_ids=("tx1",))
    assert reloaded.height == 10


def test_change_rows_unpack_into_changes_field_by_field() -> None:
    assert [f.name for f in fields(Change)] == [column.key for column in CHANGE_COLUMNS]
