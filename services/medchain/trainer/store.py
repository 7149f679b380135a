"""The trainer's round log: which patients were in each round, and the update it sent.

A hospital keeps this so it can later prove (Merkle proof) whether a patient was in a round, and so
a repeated Train call for a round it already recorded returns the same update instead of a second.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from medchain.common.db import Base


class RoundLogEntry(Base):
    """One round this hospital trained for."""

    __tablename__ = "trainer_round_log"
    __table_args__ = (sa.UniqueConstraint("study_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[str] = mapped_column(sa.String(128), index=True)
    round: Mapped[int] = mapped_column(sa.Integer)
    cohort_json: Mapped[str] = mapped_column(sa.Text)
    cohort_root: Mapped[str] = mapped_column(sa.String(64))
    update_hash: Mapped[str] = mapped_column(sa.String(64))
    parameters: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sample_count: Mapped[int] = mapped_column(sa.Integer)
    privacy_spent: Mapped[float] = mapped_column(sa.Float)
    metrics_json: Mapped[str] = mapped_column(sa.Text)
    consent_block_height: Mapped[int] = mapped_column(sa.BigInteger)
    tx_id: Mapped[str] = mapped_column(sa.String(64), default="")
    block_number: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=lambda: dt.datetime.now(dt.UTC)
    )

    @property
    def cohort(self) -> list[str]:
        return list(json.loads(self.cohort_json))

    @property
    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in json.loads(self.metrics_json).items()}


class RoundLog:
    """Queries over the round log."""

    def get(self, session: Session, study_id: str, round_number: int) -> RoundLogEntry | None:
        return session.scalars(
            sa.select(RoundLogEntry).where(
                RoundLogEntry.study_id == study_id, RoundLogEntry.round == round_number
            )
        ).one_or_none()

    def add(self, session: Session, entry: RoundLogEntry) -> None:
        session.add(entry)

    def rounds(self, session: Session, study_id: str) -> list[RoundLogEntry]:
        return list(
            session.scalars(
                sa.select(RoundLogEntry)
                .where(RoundLogEntry.study_id == study_id)
                .order_by(RoundLogEntry.round)
            )
        )
