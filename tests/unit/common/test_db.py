"""The session factory on both backends: SQLite under MEDCHAIN_HOME and a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from medchain.common.db import Base, make_engine, make_session_factory, transaction
from medchain.common.settings import Settings


class Note(Base):
    __tablename__ = "test_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(100), unique=True)


def test_commit_and_rollback(database_url: str) -> None:
    engine = make_engine(database_url)
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["test_note"]])
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        session.add(Note(text="kept"))

    def add_duplicate() -> None:
        with transaction(factory) as session:
            session.add(Note(text="lost"))
            session.add(Note(text="kept"))

    with pytest.raises(sa.exc.IntegrityError):
        add_duplicate()
    with transaction(factory) as session:
        texts = session.scalars(sa.select(Note.text)).all()
    assert texts == ["kept"]
    engine.dispose()


def test_backend_dialects(database_url: str) -> None:
    engine = make_engine(database_url)
    expected = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert engine.dialect.name == expected
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_default_sqlite_lives_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    engine = make_engine(settings.database_url_for("consent"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
    assert (tmp_path / "home" / "db" / "consent.sqlite3").exists()
    engine.dispose()
