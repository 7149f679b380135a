"""Clinical meaning out of FHIR JSON: dates, references, observation values, condition codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from medchain.ingest.terminology import (
    CATALOGUE,
    LOINC,
    UCUM,
    UNUSABLE_OBSERVATION_STATUSES,
)

JSON = dict[str, Any]
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_EXCLUDED_VERIFICATION = frozenset({"refuted", "entered-in-error"})


def parse_fhir_datetime(text: str) -> datetime:
    """A FHIR date, dateTime or instant as a naive UTC datetime; partial dates take their first
    day. Raises ValueError for anything that is not a real calendar date."""
    match = _PARTIAL.match(text)
    if match:
        year, month, day = match.groups()
        return datetime(int(year), int(month or 1), int(day or 1))
    if "T" not in text:
        raise ValueError(f"not a FHIR dateTime: {text!r}")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"a FHIR dateTime with a time needs a time zone: {text!r}")
    return parsed.astimezone(UTC).replace(tzinfo=None)


def parse_fhir_date(text: str) -> date:
    """A FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) as its first calendar day."""
    if not _PARTIAL.match(text):
        raise ValueError(f"not a FHIR date: {text!r}")
    return parse_fhir_datetime(text).date()


def observation_time(resource: JSON) -> tuple[str, str] | None:
    """(FHIRPath element, text) of an Observation's clinically relevant time, if any."""
    if isinstance(resource.get("effectiveDateTime"), str):
        return "effectiveDateTime", resource["effectiveDateTime"]
    if isinstance(resource.get("effectiveInstant"), str):
        return "effectiveInstant", resource["effectiveInstant"]
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and isinstance(period.get("start"), str):
        return "effectivePeriod.start", period["start"]
    return None


def reference_of(element: Any) -> str | None:
    """The literal reference string of a Reference element, if any."""
    if isinstance(element, dict) and isinstance(element.get("reference"), str):
        return str(element["reference"])
    return None


def codings(concept: Any) -> Iterator[JSON]:
    """The codings of a CodeableConcept, skipping anything malformed."""
    if isinstance(concept, dict):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict):
                yield coding


@dataclass(frozen=True)
class FeatureValue:
    """One usable value of an Observation: a catalogued LOINC code in its canonical unit, or a
    code of a declared local code system keyed with its unit (see `local_feature_key`)."""

    loinc: str
    value: float
    path: str


def local_feature_key(system: str, code: str, unit: str) -> str:
    """How a local-coded value is keyed among feature facts: system, code and UCUM unit.

    Local codes have no catalogue to convert units, so the unit is part of the key: a study asks
    for a unit, and a value in any other unit is missing rather than silently wrong.
    """
    return f"{system}|{code}|{unit}"


def catalogued_codes(concept: Any) -> list[str]:
    """LOINC codes of a CodeableConcept that the feature catalogue knows."""
    return [
        str(c.get("code"))
        for c in codings(concept)
        if c.get("system") == LOINC and c.get("code") in CATALOGUE
    ]


def quantity_problem(loinc: str, quantity: Any) -> str | None:
    """Why a value cannot feed the feature of `loinc`, or None when it can."""
    feature = CATALOGUE[loinc]
    if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), int | float):
        return f"LOINC {loinc} ({feature.name}) needs a numeric valueQuantity"
    if quantity.get("system") != UCUM:
        return f"LOINC {loinc} ({feature.name}) needs a UCUM unit (system {UCUM})"
    if quantity.get("code") not in feature.accepted_units():
        accepted = ", ".join(sorted(feature.accepted_units()))
        unit = quantity.get("code")
        return f"LOINC {loinc} ({feature.name}): unit {unit!r} is not one of {accepted}"
    return None


def observation_values(
    resource: JSON, local_code_systems: frozenset[str] = frozenset()
) -> list[FeatureValue]:
    """Usable values of an Observation (top level and components): catalogued LOINC codes in
    canonical units, and codes of the hospital's declared local systems with a UCUM unit."""
    if resource.get("status") in UNUSABLE_OBSERVATION_STATUSES:
        return []
    values: list[FeatureValue] = []
    parts: list[tuple[str, JSON]] = [("", resource)]
    for i, component in enumerate(resource.get("component") or []):
        if isinstance(component, dict):
            parts.append((f"component[{i}].", component))
    for prefix, part in parts:
        quantity = part.get("valueQuantity")
        for loinc in catalogued_codes(part.get("code")):
            if isinstance(quantity, dict) and quantity_problem(loinc, quantity) is None:
                unit = str(quantity["code"])
                value = CATALOGUE[loinc].to_canonical(float(quantity["value"]), unit)
                values.append(FeatureValue(loinc, value, f"{prefix}valueQuantity"))
        if not (isinstance(quantity, dict) and quantity.get("system") == UCUM):
            continue
        number, ucum = quantity.get("value"), quantity.get("code")
        if not isinstance(number, int | float) or isinstance(number, bool) or not ucum:
            continue
        for coding in codings(part.get("code")):
            system, code = coding.get("system"), coding.get("code")
            if system in local_code_systems and isinstance(code, str):
                key = local_feature_key(str(system), code, str(ucum))
                values.append(FeatureValue(key, float(number), f"{prefix}valueQuantity"))
    return values


def condition_counts(resource: JSON) -> bool:
    """Whether a Condition says the patient has (or had) it: not refuted nor entered in error."""
    return not any(
        c.get("code") in _EXCLUDED_VERIFICATION for c in codings(resource.get("verificationStatus"))
    )


def identifiers(resource: JSON) -> list[tuple[str, str]]:
    """(system, value) pairs of a resource's identifiers that have both parts."""
    found: list[tuple[str, str]] = []
    for item in resource.get("identifier") or []:
        if isinstance(item, dict):
            system, value = item.get("system"), item.get("value")
            if isinstance(system, str) and isinstance(value, str) and system and value:
                found.append((system, value))
    return found
