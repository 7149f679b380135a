"""The aggregator's tables: studies, rounds, and strategy state (FedAdam's moments)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from medchain.common.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StudyRecord(Base):
    """A study this aggregator coordinates."""

    __tablename__ = "aggregator_study"

    id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    spec_json: Mapped[str] = mapped_column(sa.Text)
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    initial_model_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="created")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    pooled_baseline_json: Mapped[str] = mapped_column(sa.Text, default="{}")
    strategy_state_json: Mapped[str] = mapped_column(sa.Text, default="")
    created_tx_id: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class RoundRecord(Base):
    """One committed (or failed) round of a study."""

    __tablename__ = "aggregator_round"
    __table_args__ = (sa.UniqueConstraint("study_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[str] = mapped_column(sa.ForeignKey("aggregator_study.id"), index=True)
    round: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16))
    model_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    parent_model_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    detail_json: Mapped[str] = mapped_column(sa.Text, default="{}")
    committed_tx_id: Mapped[str] = mapped_column(sa.String(64), default="")
    committed_block: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=_now, onupdate=_now
    )

    @property
    def detail(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.detail_json)
        return value


class AggregatorStore:
    """Queries over the aggregator's tables."""

    def study(self, session: Session, study_id: str) -> StudyRecord | None:
        return session.get(StudyRecord, study_id)

    def studies(self, session: Session) -> list[StudyRecord]:
        return list(session.scalars(sa.select(StudyRecord).order_by(StudyRecord.created_at)))

    def rounds(self, session: Session, study_id: str) -> list[RoundRecord]:
        return list(
            session.scalars(
                sa.select(RoundRecord)
                .where(RoundRecord.study_id == study_id)
                .order_by(RoundRecord.round)
            )
        )

    def round(self, session: Session, study_id: str, number: int) -> RoundRecord | None:
        return session.scalars(
            sa.select(RoundRecord).where(
                RoundRecord.study_id == study_id, RoundRecord.round == number
            )
        ).one_or_none()

    def save_round(
        self, session: Session, study_id: str, number: int, **values: Any
    ) -> RoundRecord:
        record = self.round(session, study_id, number)
        if record is None:
            record = RoundRecord(study_id=study_id, round=number, **values)
            session.add(record)
        else:
            for key, value in values.items():
                setattr(record, key, value)
        return record
