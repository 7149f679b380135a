"""Checks across the entries of one Bundle: repeated content, and events after their encounter."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from medchain.common.fhir import IssueType, error
from medchain.ingest.bundles import Entry
from medchain.ingest.clinical import JSON, observation_time, parse_fhir_datetime, reference_of

#: Elements left out of a content digest: server-assigned or derived from the rest.
_VOLATILE = frozenset({"id", "meta", "text"})


def content_digest(resource: JSON) -> str:
    """SHA-256 of a resource's content without id, meta and narrative: equal for a replay."""
    body = {k: v for k, v in resource.items() if k not in _VOLATILE}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _parsed(text: object) -> datetime | None:
    try:
        return parse_fhir_datetime(text) if isinstance(text, str) else None
    except ValueError:
        return None  # reported by the entry's own date check


def add_cross_entry_issues(entries: list[Entry]) -> None:
    """Append to each entry the issues that only show next to the other entries."""
    seen: dict[str, int] = {}
    ends: dict[str, datetime] = {}
    for e in entries:
        e.digest = content_digest(e.resource)
        if e.digest in seen:
            first = seen[e.digest]
            e.issues.append(
                error(
                    IssueType.DUPLICATE,
                    f"entry {e.index} repeats the content of entry {first}",
                    e.base,
                )
            )
        else:
            seen[e.digest] = e.index
        period = e.resource.get("period") if e.resource_type == "Encounter" else None
        end = _parsed(period.get("end")) if isinstance(period, dict) else None
        if end is not None:
            own_id = e.resource.get("id")
            for key in (e.full_url, f"Encounter/{own_id}" if isinstance(own_id, str) else None):
                if key:
                    ends[key] = end
    for e in entries:
        encounter = reference_of(e.resource.get("encounter"))
        when = observation_time(e.resource)
        at = _parsed(when[1]) if when else None
        if encounter in ends and when and at and at > ends[encounter]:
            e.issues.append(
                error(
                    IssueType.INVARIANT,
                    f"{when[0]} {when[1]} is after the end of its encounter",
                    f"{e.base}.{when[0]}",
                )
            )
