"""The ingest logic: bundles and resources in; stored resources, stats and features out."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.common.fhir import IssueType, error
from medchain.ingest.bundles import (
    Entry,
    error_entry,
    read_bundle,
    response_bundle,
    response_entry,
)
from medchain.ingest.clinical import JSON
from medchain.ingest.consistency import add_cross_entry_issues
from medchain.ingest.csv_import import CsvMapping, csv_to_bundle
from medchain.ingest.errors import (
    FeatureSpecError,
    IdentifierConflictError,
    IngestError,
    InvalidContentError,
    PayloadTooLargeError,
    ResourceNotFoundError,
    UnknownPseudonymError,
)
from medchain.ingest.features import FeatureRow, FeatureSpec, completeness, pivot
from medchain.ingest.pseudonyms import Pseudonymizer
from medchain.ingest.settings import IngestSettings
from medchain.ingest.store import IngestStore
from medchain.ingest.terminology import LOINC
from medchain.ingest.transactions import TransactionPlanner
from medchain.ingest.validation import USED_TYPES, ValidationContext, parse_json, resource_issues

_BATCH_STATUS: dict[type[IngestError], str] = {
    IdentifierConflictError: "409 Conflict",
    InvalidContentError: "422 Unprocessable Entity",
}


def utc_now() -> datetime:
    """The current time as naive UTC, the form the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class StoredResult:
    """A resource as stored, and whether this request created it."""

    resource: JSON
    created: bool
    location: str


class IngestService:
    """Validates and stores FHIR data for one hospital and serves its feature table."""

    def __init__(
        self,
        settings: IngestSettings,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.store = IngestStore()
        self.planner = TransactionPlanner(
            self.store,
            Pseudonymizer(settings.secret_key),
            settings.patient_identifier_system,
            settings.local_code_systems,
        )

    def _context(self, now: datetime) -> ValidationContext:
        return ValidationContext(
            self.settings.local_code_systems, now, self.settings.patient_identifier_system
        )

    def check_size(self, size: int) -> None:
        """Refuse a body beyond the configured limit (HTTP 413)."""
        if size > self.settings.max_body_bytes:
            raise PayloadTooLargeError(
                f"body of {size} bytes exceeds the limit of {self.settings.max_body_bytes}"
            )

    def ingest_bundle(self, body: bytes) -> JSON:
        """Store a transaction, batch or collection Bundle; return the response Bundle."""
        self.check_size(len(body))
        kind, entries = read_bundle(parse_json(body), self.settings.max_entries)
        return self._process(kind, entries)

    def _process(self, kind: str, entries: list[Entry]) -> JSON:
        now = self.clock()
        context = self._context(now)
        for entry in entries:
            if not entry.issues:
                entry.issues += resource_issues(entry.resource, entry.base, context)
        add_cross_entry_issues(entries)
        if kind == "batch":
            return response_bundle(kind, self._batch(entries, now))
        issues = [issue for entry in entries for issue in entry.issues]
        if issues:
            raise InvalidContentError(f"{len(issues)} problem(s); nothing was stored", issues)
        self._commit(entries, {}, now)
        return response_bundle(kind, [self._response(e, now) for e in entries])

    def _batch(self, entries: list[Entry], now: datetime) -> list[JSON]:
        known: dict[str, str] = {}
        out: list[JSON] = []
        for entry in entries:
            if entry.issues:
                out.append(error_entry("422 Unprocessable Entity", entry.issues))
                continue
            try:
                self._commit([entry], known, now)
            except (InvalidContentError, IdentifierConflictError) as exc:
                status = next(text for kind, text in _BATCH_STATUS.items() if isinstance(exc, kind))
                out.append(error_entry(status, list(exc.issues)))
                continue
            if entry.full_url:
                known[entry.full_url] = f"{entry.resource_type}/{entry.target_id}"
            out.append(self._response(entry, now))
        return out

    def _commit(self, entries: list[Entry], known: dict[str, str], now: datetime) -> None:
        """Plan and write in one database transaction. Losing a race to create the same resource
        or identifier rolls back; planning again then sees the winner's rows and updates them.
        A second loss is a conflict the client may retry."""
        for attempt in range(2):
            try:
                with transaction(self.sessions) as session:
                    writes = self.planner.plan(session, entries, known, now)
                    self.store.write(session, writes)
                return
            except IntegrityError as exc:
                if attempt == 1:
                    raise IdentifierConflictError(
                        "concurrent requests keep storing the same resource; retry"
                    ) from exc

    @staticmethod
    def _response(entry: Entry, now: datetime) -> JSON:
        return response_entry(entry, now, entry.resource_type in USED_TYPES)

    def create_resource(self, resource_type: str, body: bytes) -> StoredResult:
        """Store one resource posted to `/fhir/{type}`; a resend with the same id or identifier
        updates the stored one."""
        self.check_size(len(body))
        document = parse_json(body)
        if document.get("resourceType") != resource_type:
            raise InvalidContentError(
                f"resourceType {document.get('resourceType')!r} does not match the URL",
                [error(IssueType.INVALID, "resourceType differs from the URL", resource_type)],
            )
        entry = Entry(0, resource_type, document)
        self._process("transaction", [entry])
        location = f"{resource_type}/{entry.target_id}/_history/{entry.version}"
        return StoredResult(entry.resource, entry.created, location)

    def read_resource(self, resource_type: str, resource_id: str) -> JSON:
        """A stored resource as stored (references resolved, id and meta set)."""
        with transaction(self.sessions) as session:
            found = self.store.resource(session, resource_type, resource_id)
        if found is None:
            raise ResourceNotFoundError(f"{resource_type}/{resource_id} is not stored")
        stored: JSON = json.loads(found.content)
        return stored

    def import_csv(self, text: bytes, mapping: CsvMapping) -> JSON:
        """Turn a tabular export into a transaction Bundle and store it all or nothing."""
        self.check_size(len(text))
        bundle = csv_to_bundle(text, mapping, Pseudonymizer(self.settings.secret_key))
        kind, entries = read_bundle(bundle, self.settings.max_entries)
        return self._process(kind, entries)

    def reference_date(self, spec: FeatureSpec) -> date:
        return spec.reference_date or self.settings.reference_date or self.clock().date()

    def feature_rows(
        self, spec: FeatureSpec, pseudonyms: list[str] | None = None
    ) -> list[FeatureRow]:
        """Feature rows of every patient, or of `pseudonyms` in the order given."""
        spec.check()
        for i, feature in enumerate(spec.observations):
            if feature.system != LOINC and feature.system not in self.settings.local_code_systems:
                raise FeatureSpecError(
                    f"code system {feature.system} is not one of this hospital's local systems",
                    f"spec.observations[{i}].system",
                )
        loinc = {f.key for f in spec.observations}
        systems = {ref.system for flag in spec.conditions for ref in flag.codes}
        with transaction(self.sessions) as session:
            if pseudonyms is not None:
                missing = set(pseudonyms) - self.store.known_pseudonyms(session, set(pseudonyms))
                if missing:
                    raise UnknownPseudonymError(
                        f"{len(missing)} pseudonym(s) are not patients here"
                    )
            facts = self.store.patient_facts(session, loinc, systems, pseudonyms)
        rows = pivot(facts, spec, self.reference_date(spec))
        if pseudonyms is None:
            return rows
        by_pseudonym = {row.pseudonym: row for row in rows}
        return [by_pseudonym[p] for p in pseudonyms]

    def cohort(self, spec: FeatureSpec) -> list[str]:
        """Pseudonyms of the patients with every column and the label present, sorted."""
        return [row.pseudonym for row in self.feature_rows(spec) if row.complete]

    def stats(self) -> dict[str, Any]:
        """Counts per resource type, patients, and completeness of the default feature spec."""
        spec = self.settings.feature_spec()
        with transaction(self.sessions) as session:
            counts = self.store.counts_by_type(session)
            unused = self.store.unused_count(session)
        rows = self.feature_rows(spec)
        return {
            "hospital": self.settings.hospital_id,
            "resources": dict(sorted(counts.items())),
            "resources_not_used": unused,
            "patients": len(rows),
            "feature_spec": {"columns": list(spec.columns), "label": spec.label.name},
            "reference_date": self.reference_date(spec).isoformat(),
            "completeness": completeness(rows, spec.columns),
            "cohort_size": sum(row.complete for row in rows),
        }
