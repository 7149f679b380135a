"""Turning validated entries into one unit of work: identities, references, pseudonyms, facts.

Identity rules (so a resend updates instead of duplicating): a PUT keeps its URL id; a POST takes
the id of a stored resource of the same type sharing an identifier, else its own `id`, else the
UUID of its `urn:uuid` fullUrl, else a new UUID. `ifNoneExist=identifier=system|value` skips the
write when a stored resource has that identifier.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from medchain.common.fhir import Issue, IssueType, error
from medchain.ingest.bundles import Entry
from medchain.ingest.clinical import (
    JSON,
    codings,
    condition_counts,
    observation_time,
    observation_values,
    parse_fhir_date,
    parse_fhir_datetime,
    reference_of,
)
from medchain.ingest.errors import InvalidContentError
from medchain.ingest.store import IngestStore, WriteSet
from medchain.ingest.validation import PATIENT_LINKED, USED_TYPES

_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def _references(resource: JSON) -> list[dict[str, Any]]:
    """Every Reference-shaped dict inside a resource (anything with a string `reference`)."""
    # exact type checks: decoded JSON holds only dict, list and scalars, and this runs on every
    # element of every resource
    found: list[dict[str, Any]] = []
    stack: list[Any] = [resource]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        children = node
        if type(node) is dict:
            if type(node.get("reference")) is str:
                found.append(node)
            children = node.values()
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                push(child)
    return found


def _patient_id(reference: Any) -> str | None:
    """The id of a resolved `Patient/<id>` reference; None for anything else (an unresolved
    `urn:uuid`, another type), which the reference check reports on its own."""
    match = _RELATIVE.match(reference_of(reference) or "")
    return match.group(2) if match and match.group(1) == "Patient" else None


class TransactionPlanner:
    """Plans the writes of a set of entries that passed resource validation."""

    def __init__(
        self,
        store: IngestStore,
        pseudonymize: Callable[[str, str], str],
        patient_identifier_system: str | None,
        local_code_systems: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.pseudonymize = pseudonymize
        self.id_system = patient_identifier_system
        self.local_code_systems = local_code_systems

    def plan(
        self, session: Session, entries: list[Entry], known: dict[str, str], now: datetime
    ) -> WriteSet:
        """The write set of `entries`; raises InvalidContentError naming every entry at fault.
        `known` maps fullUrls of entries stored earlier (batch) to `Type/id`."""
        issues = self._identities(session, entries)
        refmap = dict(known)
        for e in entries:
            if e.full_url:
                refmap[e.full_url] = f"{e.resource_type}/{e.target_id}"
        pending: dict[tuple[str, str], list[tuple[Entry, str]]] = defaultdict(list)
        targets = {(e.resource_type, str(e.target_id)) for e in entries}
        for e in entries:
            issues += self._rewrite_references(e, refmap, targets, pending)
        versions = self.store.versions(session, targets | set(pending))
        for key, users in pending.items():
            if key not in versions:
                issues += [
                    error(IssueType.NOT_FOUND, f"reference {k[0]}/{k[1]} does not resolve", p)
                    for k, p in [(key, p) for _, p in users]
                ]
        for e in entries:
            stored = versions.get((e.resource_type, str(e.target_id)))
            e.created = stored is None
            e.version = (stored or 0) + (0 if e.matched_existing else 1)
        patients, stored_patients, patient_issues = self._patients(session, entries)
        issues += patient_issues
        if issues:
            raise InvalidContentError(
                f"{len(issues)} problem(s) in the submitted resources", issues
            )
        writes = self._write_set(entries, patients, now)
        writes.stored_patients = stored_patients
        return writes

    def _identities(self, session: Session, entries: list[Entry]) -> list[Issue]:
        wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for e in entries:
            wanted[e.resource_type].update(e.identifiers)
            if e.if_none_exist:
                wanted[e.resource_type].add(e.if_none_exist)
        stored = {
            t: self.store.ids_by_identifier(session, t, ids) for t, ids in wanted.items() if ids
        }
        anonymous: dict[str, set[str]] = defaultdict(set)
        for e in entries:
            if not e.has_identity and not e.identifiers:
                anonymous[e.resource_type].add(e.digest)
        same_content = {t: self.store.ids_by_content(session, t, d) for t, d in anonymous.items()}
        issues: list[Issue] = []
        claimed: dict[tuple[str, str, str], int] = {}
        taken: dict[tuple[str, str], int] = {}
        for e in entries:
            held = stored.get(e.resource_type, {})
            if e.if_none_exist and e.if_none_exist in held:
                e.target_id, e.matched_existing = held[e.if_none_exist], True
                continue
            matches = {held[i] for i in e.identifiers if i in held}
            if e.url_id is not None:
                e.target_id = e.url_id
                if matches - {e.url_id}:
                    issues.append(
                        error(
                            IssueType.CONFLICT,
                            f"an identifier belongs to {e.resource_type}/{sorted(matches)[0]}",
                            f"{e.base}.identifier",
                        )
                    )
            elif len(matches) > 1:
                issues.append(
                    error(
                        IssueType.CONFLICT,
                        f"identifiers match several stored resources: {sorted(matches)}",
                        f"{e.base}.identifier",
                    )
                )
            else:
                known = same_content.get(e.resource_type, {}).get(e.digest)
                e.target_id = matches.pop() if matches else known or e.proposed_id()
            e.stored_identifiers = {i for i in e.identifiers if i in held}
            for system, value in e.identifiers:
                other = claimed.setdefault((e.resource_type, system, value), e.index)
                if other != e.index:
                    issues.append(
                        error(
                            IssueType.DUPLICATE,
                            f"identifier {system}|{value} is also in entry {other}",
                            f"{e.base}.identifier",
                        )
                    )
            first = taken.setdefault((e.resource_type, str(e.target_id)), e.index)
            if first != e.index:
                issues.append(
                    error(
                        IssueType.DUPLICATE,
                        f"entry {e.index} and entry {first} are the same resource",
                        e.base,
                    )
                )
        return issues

    def _rewrite_references(
        self,
        e: Entry,
        refmap: dict[str, str],
        targets: set[tuple[str, str]],
        pending: dict[tuple[str, str], list[tuple[Entry, str]]],
    ) -> list[Issue]:
        issues = []
        for node in _references(e.resource):
            ref = str(node["reference"])
            if ref in refmap:
                node["reference"] = refmap[ref]
                continue
            if ref.startswith("#"):
                continue
            match = _RELATIVE.match(ref)
            if match is None:
                issues.append(
                    error(
                        IssueType.NOT_FOUND,
                        f"reference {ref!r} resolves neither within the bundle nor in the store",
                        e.base,
                    )
                )
            elif (match.group(1), match.group(2)) not in targets:
                pending[(match.group(1), match.group(2))].append((e, e.base))
        return issues

    def _patients(
        self, session: Session, entries: list[Entry]
    ) -> tuple[dict[str, str], set[str], list[Issue]]:
        """Map every Patient id the entries touch to its pseudonym (and say which of the
        pseudonyms are already stored); check each link."""
        issues: list[Issue] = []
        mine: dict[str, str] = {}
        for e in entries:
            if e.resource_type == "Patient" and not e.matched_existing:
                pairs = e.identifiers
                system, value = next((p for p in pairs if p[0] == self.id_system), pairs[0])
                mine[str(e.target_id)] = self.pseudonymize(system, value)
        linked = {
            patient_id
            for e in entries
            if e.resource_type in PATIENT_LINKED
            and (patient_id := _patient_id(e.resource.get(PATIENT_LINKED[e.resource_type])))
        }
        stored = self.store.patient_pseudonyms(session, set(mine) | linked)
        holders = self.store.patient_ids(session, set(mine.values()))
        for e in entries:
            if e.resource_type == "Patient" and str(e.target_id) in mine:
                pseudonym = mine[str(e.target_id)]
                previous = stored.get(str(e.target_id))
                holder = holders.get(pseudonym)
                if (previous and previous != pseudonym) or (holder and holder != e.target_id):
                    issues.append(
                        error(
                            IssueType.CONFLICT,
                            "this patient identifier is linked to another Patient resource",
                            f"{e.base}.identifier",
                        )
                    )
        return {**stored, **mine}, set(holders), issues

    def _write_set(self, entries: list[Entry], patients: dict[str, str], now: datetime) -> WriteSet:
        ws = WriteSet()
        for e in entries:
            if e.matched_existing:
                continue
            rtype, rid = e.resource_type, str(e.target_id)
            e.resource["id"] = rid
            meta = e.resource.get("meta")
            meta = meta if isinstance(meta, dict) else {}
            e.resource["meta"] = {
                **meta,
                "versionId": str(e.version),
                "lastUpdated": now.isoformat(timespec="seconds") + "Z",
            }
            subject = _patient_id(e.resource.get(PATIENT_LINKED.get(rtype, "")))
            pseudonym = patients.get(rid if rtype == "Patient" else subject or "")
            ws.resources.append(
                {
                    "resource_type": rtype,
                    "id": rid,
                    "version": e.version,
                    "patient": pseudonym,
                    "used": rtype in USED_TYPES,
                    "last_updated": now,
                    "content_hash": e.digest,
                    "anonymous_digest": None if e.has_identity or e.identifiers else e.digest,
                    "content": json.dumps(e.resource, separators=(",", ":")),
                }
            )
            if not e.created:
                ws.updated_keys.add((rtype, rid))
            ws.identifiers += [
                {"resource_type": rtype, "system": s, "value": v, "resource_id": rid}
                for s, v in e.identifiers
                if (s, v) not in e.stored_identifiers
            ]
            if pseudonym is None:
                continue
            if rtype == "Patient":
                birth = e.resource.get("birthDate")
                ws.patients[pseudonym] = {
                    "pseudonym": pseudonym,
                    "resource_id": rid,
                    "sex": e.resource.get("gender"),
                    "birth_date": parse_fhir_date(birth) if isinstance(birth, str) else None,
                }
                for pair in e.identifiers:
                    if pair not in e.stored_identifiers:
                        ws.patient_identifiers[pair] = pseudonym
            elif rtype == "Observation":
                when = observation_time(e.resource)
                local = self.local_code_systems
                for fv in observation_values(e.resource, local) if when else []:
                    ws.observation_facts.append(
                        {
                            "resource_id": rid,
                            "pseudonym": pseudonym,
                            "loinc": fv.loinc,
                            "value": fv.value,
                            "effective": parse_fhir_datetime(when[1]) if when else now,
                        }
                    )
            elif rtype == "Condition" and condition_counts(e.resource):
                for c in codings(e.resource.get("code")):
                    if isinstance(c.get("system"), str) and isinstance(c.get("code"), str):
                        ws.condition_facts.append(
                            {
                                "resource_id": rid,
                                "pseudonym": pseudonym,
                                "system": c["system"],
                                "code": c["code"],
                            }
                        )
        return ws
