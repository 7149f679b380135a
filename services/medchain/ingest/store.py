"""The hospital's EMR store: SQLAlchemy tables for raw resources, pseudonyms and feature facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from medchain.common.db import Base
from medchain.ingest.features import CodeRef, ObservationFact, PatientFacts

_T = TypeVar("_T")
_Query = tuple[
    Select[str, date | None, str | None],
    Select[str, str, float, datetime, str],
    Select[str, str, str],
]

#: Rows per IN (...) clause: stays far below SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


class PatientRow(Base):
    """One pseudonymized patient: only what features need (no names, addresses, contacts)."""

    __tablename__ = "patients"
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), unique=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(16))


class PatientIdentifierRow(Base):
    """The pseudonym mapping, kept in the hospital's own database: identifier -> pseudonym."""

    __tablename__ = "patient_identifiers"
    system: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[str] = mapped_column(String(512), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(ForeignKey("patients.pseudonym"), index=True)


class ResourceRow(Base):
    """A stored FHIR resource as received (references resolved), with its version."""

    __tablename__ = "resources"
    __table_args__ = (Index("ix_resources_type_content", "resource_type", "content_hash"),)
    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    patient: Mapped[str | None] = mapped_column(String(64), index=True)
    used: Mapped[bool] = mapped_column(Boolean)
    last_updated: Mapped[datetime] = mapped_column(DateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)


class ResourceIdentifierRow(Base):
    """Business identifiers of stored resources, so a resend updates instead of duplicating."""

    __tablename__ = "resource_identifiers"
    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    system: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[str] = mapped_column(String(512), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64))


class ObservationFactRow(Base):
    """A usable Observation value in its LOINC code's canonical unit."""

    __tablename__ = "observation_facts"
    __table_args__ = (Index("ix_observation_facts_patient_loinc", "pseudonym", "loinc"),)
    fact_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(64), index=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    loinc: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    effective: Mapped[datetime] = mapped_column(DateTime)


class ConditionFactRow(Base):
    """A coded Condition of a patient (clinically active or unstated, not refuted)."""

    __tablename__ = "condition_facts"
    fact_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(64), index=True)
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    system: Mapped[str] = mapped_column(String(512))
    code: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class StoredResource:
    resource_type: str
    id: str
    version: int
    last_updated: datetime
    content: str


@dataclass
class WriteSet:
    """Everything one unit of work writes, gathered so it can go to the database in bulk."""

    resources: list[dict[str, object]] = field(default_factory=list)
    updated_keys: set[tuple[str, str]] = field(default_factory=set)
    identifiers: list[dict[str, str]] = field(default_factory=list)
    patients: dict[str, dict[str, object]] = field(default_factory=dict)
    patient_identifiers: dict[tuple[str, str], str] = field(default_factory=dict)
    observation_facts: list[dict[str, object]] = field(default_factory=list)
    condition_facts: list[dict[str, object]] = field(default_factory=list)


def _chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class IngestStore:
    """Queries and bulk writes over the ingest tables; callers own the session and transaction."""

    def versions(
        self, session: Session, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """Current version of each stored (type, id) among `keys`."""
        found: dict[tuple[str, str], int] = {}
        for chunk in _chunks(sorted(keys)):
            stmt = select(ResourceRow.resource_type, ResourceRow.id, ResourceRow.version).where(
                tuple_(ResourceRow.resource_type, ResourceRow.id).in_(chunk)
            )
            found.update({(t, i): v for t, i, v in session.execute(stmt)})
        return found

    def ids_by_identifier(
        self, session: Session, resource_type: str, identifiers: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """Stored resource id per (system, value) identifier of one resource type."""
        found: dict[tuple[str, str], str] = {}
        for chunk in _chunks(sorted(identifiers)):
            stmt = select(
                ResourceIdentifierRow.system,
                ResourceIdentifierRow.value,
                ResourceIdentifierRow.resource_id,
            ).where(
                ResourceIdentifierRow.resource_type == resource_type,
                tuple_(ResourceIdentifierRow.system, ResourceIdentifierRow.value).in_(chunk),
            )
            found.update({(s, v): rid for s, v, rid in session.execute(stmt)})
        return found

    def ids_by_content(
        self, session: Session, resource_type: str, digests: Collection[str]
    ) -> dict[str, str]:
        """Stored resource id per content digest of one resource type."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(digests)):
            stmt = select(ResourceRow.content_hash, ResourceRow.id).where(
                ResourceRow.resource_type == resource_type, ResourceRow.content_hash.in_(chunk)
            )
            found.update(dict(session.execute(stmt).all()))
        return found

    def patient_pseudonyms(self, session: Session, ids: Collection[str]) -> dict[str, str]:
        """Pseudonym of each stored Patient resource id among `ids`."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(ids)):
            stmt = select(PatientRow.resource_id, PatientRow.pseudonym).where(
                PatientRow.resource_id.in_(chunk)
            )
            found.update(dict(session.execute(stmt).all()))
        return found

    def patient_ids(self, session: Session, pseudonyms: Collection[str]) -> dict[str, str]:
        """Patient resource id of each stored pseudonym among `pseudonyms`."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(pseudonyms)):
            stmt = select(PatientRow.pseudonym, PatientRow.resource_id).where(
                PatientRow.pseudonym.in_(chunk)
            )
            found.update(dict(session.execute(stmt).all()))
        return found

    def write(self, session: Session, batch: WriteSet) -> None:
        """Apply a write set: upsert resources, identifiers, patients; replace their facts."""
        new = [
            r for r in batch.resources if (r["resource_type"], r["id"]) not in batch.updated_keys
        ]
        old = [r for r in batch.resources if (r["resource_type"], r["id"]) in batch.updated_keys]
        if new:
            session.execute(insert(ResourceRow), new)
        if old:
            session.execute(update(ResourceRow), old)
            for fact_table, rtype in (
                (ObservationFactRow, "Observation"),
                (ConditionFactRow, "Condition"),
            ):
                replaced = sorted({str(r["id"]) for r in old if r["resource_type"] == rtype})
                for chunk in _chunks(replaced):
                    session.execute(delete(fact_table).where(fact_table.resource_id.in_(chunk)))
        self._upsert_identifiers(session, batch.identifiers)
        self._upsert_patients(session, batch)
        if batch.observation_facts:
            session.execute(insert(ObservationFactRow), batch.observation_facts)
        if batch.condition_facts:
            session.execute(insert(ConditionFactRow), batch.condition_facts)

    def _upsert_identifiers(self, session: Session, rows: list[dict[str, str]]) -> None:
        if not rows:
            return
        keys = {(r["resource_type"], r["system"], r["value"]) for r in rows}
        existing: set[tuple[str, str, str]] = set()
        for chunk in _chunks(sorted(keys)):
            cols = (
                ResourceIdentifierRow.resource_type,
                ResourceIdentifierRow.system,
                ResourceIdentifierRow.value,
            )
            existing.update(session.execute(select(*cols).where(tuple_(*cols).in_(chunk))))
        fresh = {(r["resource_type"], r["system"], r["value"]): r for r in rows}
        inserts = [r for k, r in fresh.items() if k not in existing]
        if inserts:
            session.execute(insert(ResourceIdentifierRow), inserts)

    def _upsert_patients(self, session: Session, batch: WriteSet) -> None:
        if batch.patients:
            stored = set(
                session.scalars(
                    select(PatientRow.pseudonym).where(
                        PatientRow.pseudonym.in_(list(batch.patients))
                    )
                )
            )
            fresh = [p for k, p in batch.patients.items() if k not in stored]
            known = [p for k, p in batch.patients.items() if k in stored]
            if fresh:
                session.execute(insert(PatientRow), fresh)
            if known:
                session.execute(update(PatientRow), known)
        if batch.patient_identifiers:
            cols = (PatientIdentifierRow.system, PatientIdentifierRow.value)
            keys = sorted(batch.patient_identifiers)
            existing: set[tuple[str, str]] = set()
            for chunk in _chunks(keys):
                existing.update(session.execute(select(*cols).where(tuple_(*cols).in_(chunk))))
            rows = [
                {"system": s, "value": v, "pseudonym": batch.patient_identifiers[(s, v)]}
                for s, v in keys
                if (s, v) not in existing
            ]
            if rows:
                session.execute(insert(PatientIdentifierRow), rows)

    def resource(
        self, session: Session, resource_type: str, resource_id: str
    ) -> StoredResource | None:
        row = session.get(ResourceRow, (resource_type, resource_id))
        if row is None:
            return None
        return StoredResource(row.resource_type, row.id, row.version, row.last_updated, row.content)

    def counts_by_type(self, session: Session) -> dict[str, int]:
        stmt = select(ResourceRow.resource_type, func.count()).group_by(ResourceRow.resource_type)
        return {t: int(n) for t, n in session.execute(stmt)}

    def unused_count(self, session: Session) -> int:
        stmt = select(func.count()).select_from(ResourceRow).where(ResourceRow.used.is_(False))
        return int(session.scalar(stmt) or 0)

    def known_pseudonyms(self, session: Session, pseudonyms: Collection[str]) -> set[str]:
        known: set[str] = set()
        for chunk in _chunks(sorted(pseudonyms)):
            known.update(
                session.scalars(select(PatientRow.pseudonym).where(PatientRow.pseudonym.in_(chunk)))
            )
        return known

    def patient_facts(
        self,
        session: Session,
        loinc_codes: Collection[str],
        condition_systems: Collection[str],
        pseudonyms: Collection[str] | None = None,
    ) -> list[PatientFacts]:
        """Facts of every patient (or of `pseudonyms`), limited to what a spec can use."""
        patients = select(PatientRow.pseudonym, PatientRow.birth_date, PatientRow.sex)
        obs = select(
            ObservationFactRow.pseudonym,
            ObservationFactRow.loinc,
            ObservationFactRow.value,
            ObservationFactRow.effective,
            ObservationFactRow.resource_id,
        ).where(ObservationFactRow.loinc.in_(sorted(loinc_codes)))
        cond = select(
            ConditionFactRow.pseudonym, ConditionFactRow.system, ConditionFactRow.code
        ).where(ConditionFactRow.system.in_(sorted(condition_systems)))
        if pseudonyms is None:
            return self._assemble(session, [(patients, obs, cond)])
        parts: list[_Query] = []
        for chunk in _chunks(sorted(pseudonyms)):
            parts.append(
                (
                    patients.where(PatientRow.pseudonym.in_(chunk)),
                    obs.where(ObservationFactRow.pseudonym.in_(chunk)),
                    cond.where(ConditionFactRow.pseudonym.in_(chunk)),
                )
            )
        return self._assemble(session, parts)

    def _assemble(self, session: Session, parts: list[_Query]) -> list[PatientFacts]:
        demographics: dict[str, tuple[date | None, str | None]] = {}
        observations: defaultdict[str, list[ObservationFact]] = defaultdict(list)
        conditions: defaultdict[str, list[CodeRef]] = defaultdict(list)
        for patients, obs, cond in parts:
            for pseudonym, birth, sex in session.execute(patients):
                demographics[pseudonym] = (birth, sex)
            for pseudonym, loinc, value, effective, rid in session.execute(obs):
                observations[pseudonym].append(ObservationFact(loinc, value, effective, rid))
            for pseudonym, system, code in session.execute(cond):
                conditions[pseudonym].append(CodeRef(system, code))
        return [
            PatientFacts(p, birth, sex, tuple(observations[p]), tuple(conditions[p]))
            for p, (birth, sex) in sorted(demographics.items())
        ]
