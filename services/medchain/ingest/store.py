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
    bindparam,
    delete,
    func,
    select,
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
    __table_args__ = (
        Index("ix_resources_type_content", "resource_type", "content_hash"),
        Index("ix_resources_id", "id"),
        # a resource sent without any identity is stored at most once per content, even when
        # two requests race to create it
        Index("ux_resources_anonymous", "resource_type", "anonymous_digest", unique=True),
    )
    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    patient: Mapped[str | None] = mapped_column(String(64), index=True)
    used: Mapped[bool] = mapped_column(Boolean)
    last_updated: Mapped[datetime] = mapped_column(DateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: the content hash again when the sender gave no id, urn:uuid or identifier; else NULL
    anonymous_digest: Mapped[str | None] = mapped_column(String(64))
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
    #: A LOINC code, or `system|code|unit` of a local code (clinical.local_feature_key).
    loinc: Mapped[str] = mapped_column(String(600))
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
    #: identifiers not yet stored (the planner looked every one up)
    identifiers: list[dict[str, str]] = field(default_factory=list)
    patients: dict[str, dict[str, object]] = field(default_factory=dict)
    patient_identifiers: dict[tuple[str, str], str] = field(default_factory=dict)
    observation_facts: list[dict[str, object]] = field(default_factory=list)
    condition_facts: list[dict[str, object]] = field(default_factory=list)
    #: pseudonyms among `patients` that are already stored (their rows are updated)
    stored_patients: set[str] = field(default_factory=set)


# Core tables: bulk inserts through them skip the ORM's per-row bookkeeping.
_RESOURCES = Base.metadata.tables[ResourceRow.__tablename__]
_IDENTIFIERS = Base.metadata.tables[ResourceIdentifierRow.__tablename__]
_PATIENTS = Base.metadata.tables[PatientRow.__tablename__]
_PATIENT_IDENTIFIERS = Base.metadata.tables[PatientIdentifierRow.__tablename__]
_OBSERVATION_FACTS = Base.metadata.tables[ObservationFactRow.__tablename__]
_CONDITION_FACTS = Base.metadata.tables[ConditionFactRow.__tablename__]


# Statements built once, so each call skips building the expression (compiled forms are cached).
# Versions are looked up by id alone: ids rarely repeat across types, so filtering the few
# same-id rows of other types in Python beats one query per type.
_VERSIONS_BY_ID = select(ResourceRow.resource_type, ResourceRow.id, ResourceRow.version).where(
    ResourceRow.id.in_(bindparam("ids", expanding=True))
)

_IDS_BY_IDENTIFIER = select(ResourceIdentifierRow.value, ResourceIdentifierRow.resource_id).where(
    ResourceIdentifierRow.resource_type == bindparam("type"),
    ResourceIdentifierRow.system == bindparam("system"),
    ResourceIdentifierRow.value.in_(bindparam("values", expanding=True)),
)
_IDS_BY_CONTENT = select(ResourceRow.content_hash, ResourceRow.id).where(
    ResourceRow.resource_type == bindparam("type"),
    ResourceRow.content_hash.in_(bindparam("digests", expanding=True)),
)
_PSEUDONYMS_BY_ID = select(PatientRow.resource_id, PatientRow.pseudonym).where(
    PatientRow.resource_id.in_(bindparam("ids", expanding=True))
)
_IDS_BY_PSEUDONYM = select(PatientRow.pseudonym, PatientRow.resource_id).where(
    PatientRow.pseudonym.in_(bindparam("pseudonyms", expanding=True))
)


def _chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _grouped(keys: Collection[tuple[str, ...]]) -> Iterable[tuple[tuple[str, ...], Sequence[str]]]:
    """Keys grouped by all but their last part, in chunks: `a = ? AND b IN (...)` uses the
    primary key index on both databases, where a row-value IN may scan."""
    groups: defaultdict[tuple[str, ...], list[str]] = defaultdict(list)
    for key in sorted(keys):
        groups[key[:-1]].append(key[-1])
    for prefix, lasts in groups.items():
        for chunk in _chunks(lasts):
            yield prefix, chunk


class IngestStore:
    """Queries and bulk writes over the ingest tables; callers own the session and transaction."""

    def versions(
        self, session: Session, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """Current version of each stored (type, id) among `keys`."""
        found: dict[tuple[str, str], int] = {}
        wanted = set(keys)
        for chunk in _chunks(sorted({rid for _, rid in wanted})):
            for rtype, rid, version in session.execute(_VERSIONS_BY_ID, {"ids": chunk}):
                if (rtype, rid) in wanted:
                    found[(rtype, rid)] = version
        return found

    def ids_by_identifier(
        self, session: Session, resource_type: str, identifiers: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """Stored resource id per (system, value) identifier of one resource type."""
        found: dict[tuple[str, str], str] = {}
        for (system,), chunk in _grouped(identifiers):
            params = {"type": resource_type, "system": system, "values": chunk}
            found.update(
                {(system, v): rid for v, rid in session.execute(_IDS_BY_IDENTIFIER, params)}
            )
        return found

    def ids_by_content(
        self, session: Session, resource_type: str, digests: Collection[str]
    ) -> dict[str, str]:
        """Stored resource id per content digest of one resource type."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(digests)):
            params = {"type": resource_type, "digests": chunk}
            found.update(dict(session.execute(_IDS_BY_CONTENT, params).all()))
        return found

    def patient_pseudonyms(self, session: Session, ids: Collection[str]) -> dict[str, str]:
        """Pseudonym of each stored Patient resource id among `ids`."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(ids)):
            found.update(dict(session.execute(_PSEUDONYMS_BY_ID, {"ids": chunk}).all()))
        return found

    def patient_ids(self, session: Session, pseudonyms: Collection[str]) -> dict[str, str]:
        """Patient resource id of each stored pseudonym among `pseudonyms`."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(pseudonyms)):
            found.update(dict(session.execute(_IDS_BY_PSEUDONYM, {"pseudonyms": chunk}).all()))
        return found

    def write(self, session: Session, batch: WriteSet) -> None:
        """Apply a write set: upsert resources, identifiers, patients; replace their facts."""
        new = [
            r for r in batch.resources if (r["resource_type"], r["id"]) not in batch.updated_keys
        ]
        old = [r for r in batch.resources if (r["resource_type"], r["id"]) in batch.updated_keys]
        if new:
            session.execute(_RESOURCES.insert(), new)
        if old:
            # an update never changes whether the stored resource arrived anonymously
            kept = [{k: v for k, v in r.items() if k != "anonymous_digest"} for r in old]
            session.execute(update(ResourceRow), kept)
            for fact_table, rtype in (
                (ObservationFactRow, "Observation"),
                (ConditionFactRow, "Condition"),
            ):
                replaced = sorted({str(r["id"]) for r in old if r["resource_type"] == rtype})
                for chunk in _chunks(replaced):
                    session.execute(delete(fact_table).where(fact_table.resource_id.in_(chunk)))
        if batch.identifiers:
            session.execute(_IDENTIFIERS.insert(), batch.identifiers)
        self._upsert_patients(session, batch)
        if batch.observation_facts:
            session.execute(_OBSERVATION_FACTS.insert(), batch.observation_facts)
        if batch.condition_facts:
            session.execute(_CONDITION_FACTS.insert(), batch.condition_facts)

    def _upsert_patients(self, session: Session, batch: WriteSet) -> None:
        fresh = [p for k, p in batch.patients.items() if k not in batch.stored_patients]
        known = [p for k, p in batch.patients.items() if k in batch.stored_patients]
        if fresh:
            session.execute(_PATIENTS.insert(), fresh)
        if known:
            session.execute(update(PatientRow), known)
        if batch.patient_identifiers:
            rows = [
                {"system": s, "value": v, "pseudonym": pseudonym}
                for (s, v), pseudonym in batch.patient_identifiers.items()
            ]
            session.execute(_PATIENT_IDENTIFIERS.insert(), rows)

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
