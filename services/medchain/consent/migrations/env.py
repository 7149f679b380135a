"""Alembic environment: runs migrations on the engine the service passes in `config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import medchain.consent.tables  # noqa: F401  (registers the tables on Base.metadata)
from medchain.common.db import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run consent migrations through medchain.consent.migrations.upgrade()")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=config.get_main_option("version_table") or "alembic_version",
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
