"""FHIR Consent and compact consent examples for the consent tests."""

from __future__ import annotations

import copy
from typing import Any

MRN = "urn:oid:2.16.840.1.113883.19.5"
SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
STUDY_EXT = "http://hl7.org/fhir/StructureDefinition/workflow-researchStudy"


def study_ext(study: str) -> dict[str, Any]:
    """The workflow-researchStudy extension naming a study."""
    return {"url": STUDY_EXT, "valueReference": {"reference": f"ResearchStudy/{study}"}}


def purpose(code: str) -> dict[str, str]:
    return {"system": ACT_REASON, "code": code}


def consent(
    mrn: str = "12345",
    *,
    study: str | None = "diabetes-2026",
    decision: str = "permit",
    status: str = "active",
    period: dict[str, str] | None = None,
    purposes: tuple[str, ...] = (),
    nested: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A research Consent of patient `mrn` for a study (and/or purposes)."""
    provision: dict[str, Any] = {"type": decision}
    if period is not None:
        provision["period"] = period
    if purposes:
        provision["purpose"] = [purpose(p) for p in purposes]
    if nested:
        provision["provision"] = nested
    document: dict[str, Any] = {
        "resourceType": "Consent",
        "status": status,
        "scope": {"coding": [{"system": SCOPE, "code": "research"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "57016-8"}]}],
        "patient": {"identifier": {"system": MRN, "value": mrn}},
        "dateTime": "2026-01-15T10:00:00+01:00",
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": provision,
    }
    if study is not None:
        document["extension"] = [study_ext(study)]
    return document


def without(document: dict[str, Any], *path: str) -> dict[str, Any]:
    """A deep copy of `document` with the element at `path` removed."""
    copied = copy.deepcopy(document)
    owner = copied
    for part in path[:-1]:
        owner = owner[part]
    del owner[path[-1]]
    return copied


def with_value(document: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    """A deep copy of `document` with the element at `path` set to `value`."""
    copied = copy.deepcopy(document)
    owner: Any = copied
    for part in path[:-1]:
        owner = owner[part]
    owner[path[-1]] = value
    return copied


def compact(
    mrn: str,
    *,
    study: str | None = "diabetes-2026",
    purpose_code: str | None = None,
    decision: str = "permit",
    start: str | None = "2024-01-01",
    end: str | None = None,
) -> dict[str, Any]:
    """One item of the compact form."""
    item: dict[str, Any] = {"patient": {"system": MRN, "value": mrn}, "decision": decision}
    if study is not None:
        item["study"] = study
    if purpose_code is not None:
        item["purpose"] = purpose_code
    period = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    if period:
        item["period"] = period
    return item
