"""Alembic migrations of the consent database, applied programmatically at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(engine: Engine) -> Config:
    """An Alembic config built in code: no alembic.ini; env.py runs on `engine`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_table", "alembic_version_consent")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    command.upgrade(alembic_config(engine), revision)
