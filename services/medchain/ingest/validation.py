"""Validation of one FHIR resource: the R4B model, then the checks `fhir.resources` skips.

Issues carry FHIRPath-like expressions rooted at `base`, e.g. `Bundle.entry[3].resource.status`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from medchain.common.fhir import Issue, IssueType, error, model_issues
from medchain.ingest.clinical import (
    JSON,
    catalogued_codes,
    codings,
    identifiers,
    observation_time,
    parse_fhir_datetime,
    quantity_problem,
    reference_of,
)
from medchain.ingest.errors import UnparseableBodyError
from medchain.ingest.terminology import (
    RECOGNISED_CODE_SYSTEMS,
    REQUIRED_BINDINGS,
    REQUIRED_CONCEPT_BINDINGS,
    UNUSABLE_OBSERVATION_STATUSES,
)

#: Resource types whose content feeds the feature table; every other type is stored raw.
USED_TYPES = frozenset({"Patient", "Observation", "Condition", "Encounter", "MedicationRequest"})
#: Clinical types that must name their Patient, or they cannot be linked to a pseudonym.
PATIENT_LINKED = {
    "Observation": "subject",
    "Condition": "subject",
    "Encounter": "subject",
    "MedicationRequest": "subject",
}
#: Dates that must parse and must not lie in the future.
_DATES = {
    "Patient": ("birthDate",),
    "Condition": ("onsetDateTime", "abatementDateTime", "recordedDate"),
    "MedicationRequest": ("authoredOn",),
}
#: US Core profiles of these types require `category` (1..*), which the base models do not know.
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
US_CORE_CATEGORY_TYPES = frozenset({"Observation", "Condition", "DiagnosticReport"})
#: Clock skew tolerated between a hospital system and this service.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class ValidationContext:
    """What resource checks depend on besides the resource: site code systems and the clock."""

    local_code_systems: frozenset[str]
    now: datetime
    patient_identifier_system: str | None = None

    def known_system(self, system: Any) -> bool:
        return system in RECOGNISED_CODE_SYSTEMS or system in self.local_code_systems


def parse_json(body: bytes) -> JSON:
    """Decode a JSON object with a `resourceType`, or raise UnparseableBodyError (HTTP 400)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnparseableBodyError(f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise UnparseableBodyError("body is not a FHIR resource: no `resourceType`")
    return document


def resource_issues(resource: JSON, base: str, ctx: ValidationContext) -> list[Issue]:
    """Every issue of one resource: the model first; MedChain's rules only on a valid model."""
    issues = model_issues(resource, base)
    return issues or rule_issues(resource, base, ctx)


def rule_issues(resource: JSON, base: str, ctx: ValidationContext) -> list[Issue]:
    """The checks `fhir.resources` skips, on a resource that parsed."""
    rtype = str(resource["resourceType"])
    issues: list[Issue] = []
    for path, codes in REQUIRED_BINDINGS.items():
        owner, element = path.split(".")
        value = resource.get(element)
        if owner == rtype and value is not None and value not in codes:
            issues.append(
                error(
                    IssueType.CODE_INVALID,
                    f"{path} {value!r} is not one of {sorted(codes)}",
                    f"{base}.{element}",
                )
            )
    for path, (system, codes) in REQUIRED_CONCEPT_BINDINGS.items():
        owner, element = path.split(".")
        if owner == rtype and element in resource:
            ok = any(
                c.get("system") == system and c.get("code") in codes
                for c in codings(resource[element])
            )
            if not ok:
                issues.append(
                    error(
                        IssueType.CODE_INVALID,
                        f"{path} needs a code from {system}",
                        f"{base}.{element}",
                    )
                )
    issues += _code_system_issues(resource, base, ctx)
    issues += _date_issues(resource, base, ctx)
    if rtype in PATIENT_LINKED:
        element = PATIENT_LINKED[rtype]
        ref = reference_of(resource.get(element))
        if ref is None or not (ref.startswith(("Patient/", "urn:uuid:")) or "/Patient/" in ref):
            issues.append(
                error(
                    IssueType.REQUIRED,
                    f"{rtype}.{element} must reference a Patient",
                    f"{base}.{element}",
                )
            )
    issues += _declared_profile_issues(resource, base)
    if rtype == "Patient":
        issues += _patient_issues(resource, base, ctx)
    if rtype == "Observation":
        issues += _observation_issues(resource, base, ctx)
    return issues


def _declared_profile_issues(resource: JSON, base: str) -> list[Issue]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    claimed = [p for p in profiles or [] if isinstance(p, str) and p.startswith(US_CORE)]
    if (
        claimed
        and resource["resourceType"] in US_CORE_CATEGORY_TYPES
        and not resource.get("category")
    ):
        return [
            error(
                IssueType.REQUIRED,
                f"category is required by the declared profile {claimed[0]}",
                f"{base}.category",
            )
        ]
    return []


def _code_system_issues(resource: JSON, base: str, ctx: ValidationContext) -> list[Issue]:
    issues = []
    for element in ("code", "medicationCodeableConcept"):
        for i, coding in enumerate(codings(resource.get(element))):
            if not ctx.known_system(coding.get("system")):
                issues.append(
                    error(
                        IssueType.CODE_INVALID,
                        f"code system {coding.get('system')!r} is neither a standard terminology "
                        "nor a declared local one (MEDCHAIN_INGEST_LOCAL_CODE_SYSTEMS)",
                        f"{base}.{element}.coding[{i}].system",
                    )
                )
    return issues


def _date_issues(resource: JSON, base: str, ctx: ValidationContext) -> list[Issue]:
    rtype = str(resource["resourceType"])
    found = [(e, resource[e]) for e in _DATES.get(rtype, ()) if isinstance(resource.get(e), str)]
    effective = observation_time(resource) if rtype != "Encounter" else None
    found += [effective] if effective else []
    if isinstance(resource.get("issued"), str):
        found.append(("issued", resource["issued"]))
    period = resource.get("period") if rtype == "Encounter" else None
    if isinstance(period, dict):
        found += [
            (f"period.{k}", v)
            for k, v in period.items()
            if k in ("start", "end") and isinstance(v, str)
        ]
    issues, parsed = [], {}
    for element, text in found:
        try:
            parsed[element] = parse_fhir_datetime(text)
        except ValueError as exc:
            issues.append(error(IssueType.VALUE, f"{element}: {exc}", f"{base}.{element}"))
            continue
        if element != "period.end" and parsed[element] > ctx.now + CLOCK_SKEW:
            issues.append(
                error(IssueType.VALUE, f"{element} {text} lies in the future", f"{base}.{element}")
            )
    # an event cannot end before it starts, nor be reported (issued) before it happened
    ordered = [("period.start", "period.end")]
    ordered += [(effective[0], "issued")] if effective else []
    for first, then in ordered:
        if first in parsed and then in parsed and parsed[first] > parsed[then]:
            issues.append(error(IssueType.INVARIANT, f"{first} is after {then}", f"{base}.{first}"))
    return issues


def _patient_issues(resource: JSON, base: str, ctx: ValidationContext) -> list[Issue]:
    pairs = identifiers(resource)
    wanted = ctx.patient_identifier_system
    if wanted and not any(system == wanted for system, _ in pairs):
        return [
            error(
                IssueType.REQUIRED,
                f"Patient needs an identifier of system {wanted}",
                f"{base}.identifier",
            )
        ]
    if not pairs:
        return [
            error(
                IssueType.REQUIRED,
                "Patient needs an identifier with system and value (it is pseudonymized)",
                f"{base}.identifier",
            )
        ]
    if any("|" in system for system, _ in pairs):
        return [
            error(IssueType.VALUE, "identifier systems must not contain '|'", f"{base}.identifier")
        ]
    return []


def _observation_issues(resource: JSON, base: str, ctx: ValidationContext) -> list[Issue]:
    if resource.get("status") in UNUSABLE_OBSERVATION_STATUSES:
        return []
    issues = []
    parts: list[tuple[str, JSON]] = [(base, resource)]
    for i, component in enumerate(resource.get("component") or []):
        parts.append((f"{base}.component[{i}]", component))
    for path, part in parts:
        if "dataAbsentReason" in part:
            continue
        for loinc in catalogued_codes(part.get("code")):
            problem = quantity_problem(loinc, part.get("valueQuantity"))
            if problem and not (
                path == base and "component" in resource and "valueQuantity" not in part
            ):
                issues.append(error(IssueType.VALUE, problem, f"{path}.value"))
    if (
        any(catalogued_codes(p.get("code")) for _, p in parts)
        and observation_time(resource) is None
    ):
        issues.append(
            error(
                IssueType.REQUIRED,
                "an Observation of a feature needs effective[x]",
                f"{base}.effective",
            )
        )
    return issues
