"""Bundle envelopes in and out: read a posted Bundle into entries, build response Bundles."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from medchain.common.fhir import (
    Issue,
    IssueType,
    Severity,
    error,
    model_issues,
    operation_outcome,
)
from medchain.ingest.clinical import JSON, identifiers
from medchain.ingest.errors import InvalidContentError, PayloadTooLargeError

ACCEPTED_TYPES = {"transaction": "transaction-response", "batch": "batch-response"}
ACCEPTED_TYPES["collection"] = "transaction-response"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_IF_NONE_EXIST = re.compile(r"^identifier=([^|&]+)\|([^&]+)$")
_URN_UUID = re.compile(
    r"^urn:uuid:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


@dataclass
class Entry:
    """One entry of a posted Bundle (or a single posted resource), on its way to the store."""

    index: int
    base: str
    resource: JSON
    method: str = "POST"
    full_url: str | None = None
    url_id: str | None = None
    if_none_exist: tuple[str, str] | None = None
    issues: list[Issue] = field(default_factory=list)
    target_id: str | None = None
    version: int = 1
    created: bool = True
    matched_existing: bool = False
    digest: str = ""
    #: identifiers already stored for this resource: nothing to insert for them
    stored_identifiers: set[tuple[str, str]] = field(default_factory=set)

    @cached_property
    def identifiers(self) -> list[tuple[str, str]]:
        """(system, value) business identifiers of the resource."""
        return identifiers(self.resource)

    @cached_property
    def has_identity(self) -> bool:
        """Whether the sender gave this resource an identity (id, PUT url or urn:uuid); cached
        on first use, before planning sets an id, so a re-plan still matches by content."""
        own = self.resource.get("id")
        return bool(
            self.url_id
            or (isinstance(own, str) and FHIR_ID.match(own))
            or _URN_UUID.match(self.full_url or "")
        )

    @cached_property
    def resource_type(self) -> str:
        return str(self.resource.get("resourceType"))

    def proposed_id(self) -> str:
        """The id a create gets when no identifier matches: resource.id, the urn:uuid, or new."""
        own = self.resource.get("id")
        if isinstance(own, str) and FHIR_ID.match(own):
            return own
        match = _URN_UUID.match(self.full_url or "")
        return match.group(1).lower() if match else str(uuid.uuid4())


def read_bundle(bundle: JSON, max_entries: int) -> tuple[str, list[Entry]]:
    """The Bundle's type and its entries, each with its envelope issues; raises for a bundle whose
    envelope itself is unusable (wrong type, too many entries)."""
    if bundle.get("resourceType") != "Bundle":
        raise InvalidContentError(
            f"POST /fhir takes a Bundle, got {bundle.get('resourceType')!r}",
            [error(IssueType.INVALID, "expected resourceType Bundle", "Bundle.resourceType")],
        )
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list):
        raise InvalidContentError(
            "Bundle.entry must be a list",
            [error(IssueType.STRUCTURE, "not a list", "Bundle.entry")],
        )
    if len(raw_entries) > max_entries:
        raise PayloadTooLargeError(
            f"the bundle has {len(raw_entries)} entries; the limit is {max_entries}"
        )
    shell = {k: v for k, v in bundle.items() if k != "entry"}
    # Entries carrying only fullUrl, request (method, url, ifNoneExist) and resource are checked
    # here, since those are plain strings; any other entry goes through the R4B model.
    checked = [i for i, e in enumerate(raw_entries) if not _plain_entry(e)]
    shell["entry"] = [
        {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
        for e in (raw_entries[i] for i in checked)
    ]
    issues = [_renumbered(issue, checked) for issue in model_issues(shell, "Bundle")]
    kind = bundle.get("type")
    if not isinstance(kind, str) or kind not in ACCEPTED_TYPES:
        issues.append(
            error(
                IssueType.NOT_SUPPORTED,
                f"Bundle.type must be one of {sorted(ACCEPTED_TYPES)}",
                "Bundle.type",
            )
        )
    if issues:
        raise InvalidContentError("the Bundle envelope is invalid", issues)
    entries = [_read_entry(i, e, str(kind)) for i, e in enumerate(raw_entries)]
    seen: dict[str, int] = {}
    for entry in entries:
        if entry.full_url and entry.full_url in seen:
            entry.issues.append(
                error(
                    IssueType.DUPLICATE,
                    f"fullUrl also used by entry {seen[entry.full_url]}",
                    f"Bundle.entry[{entry.index}].fullUrl",
                )
            )
        elif entry.full_url:
            seen[entry.full_url] = entry.index
    return str(kind), entries


_PLAIN_ENTRY_KEYS = frozenset({"fullUrl", "request", "resource"})
_PLAIN_REQUEST_KEYS = frozenset({"method", "url", "ifNoneExist"})


def _renumbered(issue: Issue, positions: list[int]) -> Issue:
    """Point an issue about the k-th model-checked entry at that entry's index in the Bundle."""
    match = re.match(r"^Bundle\.entry\[(\d+)\]", issue.expression or "")
    if not match:
        return issue
    original = f"Bundle.entry[{positions[int(match.group(1))]}]"
    expression = original + (issue.expression or "")[match.end() :]
    return Issue(issue.severity, issue.code, issue.diagnostics, expression)


_BLANK_OR_SPACED = re.compile(r"^$|\s")


def _plain_string(value: Any) -> bool:
    return isinstance(value, str) and _BLANK_OR_SPACED.search(value) is None


def _plain_entry(entry: Any) -> bool:
    """An entry whose envelope holds only non-blank strings the FHIR types allow (uri: no
    whitespace) where the R4B model expects them."""
    if not isinstance(entry, dict) or not _PLAIN_ENTRY_KEYS.issuperset(entry):
        return False
    if "fullUrl" in entry and not _plain_string(entry["fullUrl"]):
        return False
    request = entry.get("request")
    if request is None:
        return True
    if not isinstance(request, dict) or not _PLAIN_REQUEST_KEYS.issuperset(request):
        return False
    condition = request.get("ifNoneExist", "x")
    return (
        _plain_string(request.get("method"))
        and _plain_string(request.get("url"))
        and isinstance(condition, str)
        and bool(condition.strip())
    )


def _read_entry(index: int, raw: dict[str, Any], kind: str) -> Entry:
    base = f"Bundle.entry[{index}]"
    resource = raw.get("resource")
    entry = Entry(
        index,
        f"{base}.resource",
        resource if isinstance(resource, dict) else {},
        full_url=raw.get("fullUrl"),
    )
    if not isinstance(resource, dict):
        entry.issues.append(error(IssueType.REQUIRED, "entry has no resource", f"{base}.resource"))
        return entry
    request = raw.get("request")
    if kind == "collection" or request is None:
        if kind != "collection":
            entry.issues.append(
                error(IssueType.REQUIRED, f"a {kind} entry needs a request", f"{base}.request")
            )
        return entry
    method, url = request.get("method"), str(request.get("url", ""))
    rtype = entry.resource_type
    if method == "POST":
        if url.split("?")[0] != rtype:
            entry.issues.append(
                error(IssueType.VALUE, f"POST url must be {rtype!r}", f"{base}.request.url")
            )
        condition = request.get("ifNoneExist")
        if condition is not None:
            match = _IF_NONE_EXIST.match(str(condition))
            if not match:
                entry.issues.append(
                    error(
                        IssueType.NOT_SUPPORTED,
                        "ifNoneExist supports only identifier=system|value",
                        f"{base}.request.ifNoneExist",
                    )
                )
            else:
                entry.if_none_exist = (match.group(1), match.group(2))
    elif method == "PUT":
        parts = url.split("/")
        if len(parts) != 2 or parts[0] != rtype or not FHIR_ID.match(parts[1]):
            entry.issues.append(
                error(
                    IssueType.NOT_SUPPORTED, f"PUT url must be {rtype}/<id>", f"{base}.request.url"
                )
            )
        elif resource.get("id") not in (None, parts[1]):
            entry.issues.append(
                error(
                    IssueType.INVARIANT,
                    "resource.id differs from the PUT url",
                    f"{base}.resource.id",
                )
            )
        else:
            entry.url_id = parts[1]
    else:
        entry.issues.append(
            error(
                IssueType.NOT_SUPPORTED,
                f"request method {method} is not supported; use POST or PUT",
                f"{base}.request.method",
            )
        )
    entry.method = str(method)
    return entry


def response_entry(entry: Entry, last_updated: datetime, used: bool) -> JSON:
    """The transaction/batch response entry of an entry that succeeded."""
    status = "200 OK" if entry.matched_existing or not entry.created else "201 Created"
    out: JSON = {
        "response": {
            "status": status,
            "location": f"{entry.resource_type}/{entry.target_id}/_history/{entry.version}",
            "etag": f'W/"{entry.version}"',
            "lastModified": last_updated.isoformat(timespec="seconds") + "Z",
        }
    }
    if not used:
        note = Issue(
            Severity.INFORMATION,
            IssueType.INFORMATIONAL,
            f"{entry.resource_type} is stored as received but not used for features",
            entry.base,
        )
        out["response"]["outcome"] = operation_outcome([note])
    return out


def error_entry(status: str, issues: list[Issue]) -> JSON:
    """The batch response entry of an entry that failed."""
    return {"response": {"status": status, "outcome": operation_outcome(issues)}}


def response_bundle(kind: str, entries: list[JSON]) -> JSON:
    return {"resourceType": "Bundle", "type": ACCEPTED_TYPES[kind], "entry": entries}
