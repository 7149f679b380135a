"""Alembic migrations on SQLite and PostgreSQL: they build exactly the tables the models declare."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from medchain.common.db import Base, make_engine
from medchain.ingest import migrations, store

INGEST_TABLES = {
    store.PatientRow.__tablename__,
    store.PatientIdentifierRow.__tablename__,
    store.ResourceRow.__tablename__,
    store.ResourceIdentifierRow.__tablename__,
    store.ObservationFactRow.__tablename__,
    store.ConditionFactRow.__tablename__,
}


def _ingest_tables_only(
    _obj: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Compare only ingest tables: other services share the declarative base and the database."""
    return type_ != "table" or name in INGEST_TABLES


def test_upgrade_matches_the_models_and_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    migrations.upgrade(engine)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": _ingest_tables_only}
        )
        diff = compare_metadata(context, Base.metadata)
        tables = set(sa.inspect(connection).get_table_names())

    assert diff == []
    assert INGEST_TABLES | {"alembic_version_ingest"} <= tables
    engine.dispose()


def test_downgrade_removes_every_ingest_table(database_url: str) -> None:
    engine = make_engine(database_url)
    migrations.upgrade(engine)

    command.downgrade(migrations.alembic_config(engine), "base")

    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) & INGEST_TABLES == set()
    engine.dispose()
