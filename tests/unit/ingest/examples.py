"""Hand-written HL7-style FHIR examples (shaped like the spec's own examples) for the tests."""

from __future__ import annotations

from typing import Any

MRN = "urn:oid:2.16.840.1.113883.19.5"
PATIENT_URL = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
ENCOUNTER_URL = "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"


def patient(mrn: str = "12345", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": MRN, "value": mrn}],
        "name": [{"family": "Chalmers", "given": ["Peter", "James"]}],
        "telecom": [{"system": "phone", "value": "(03) 5555 6473", "use": "work"}],
        "address": [{"line": ["534 Erewhon St"], "city": "PleasantVille", "postalCode": "3999"}],
        "gender": "male",
        "birthDate": "1974-12-25",
        **extra,
    }


def glucose(
    value: float = 6.3,
    unit: str = "mmol/L",
    when: str = "2026-04-02T09:30:10+01:00",
    subject: str = PATIENT_URL,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]
        },
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
        **extra,
    }


def hba1c(value: float, when: str, subject: str = PATIENT_URL) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        },
    }


def condition(code: str = "E11.9", subject: str = PATIENT_URL, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": code}]},
        "subject": {"reference": subject},
        "onsetDateTime": "2019-05-01",
        **extra,
    }


def encounter(subject: str = PATIENT_URL) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": subject},
        "period": {"start": "2026-04-02T09:00:00+01:00", "end": "2026-04-02T10:00:00+01:00"},
    }


def medication_request(subject: str = PATIENT_URL) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "861007"}]
        },
        "subject": {"reference": subject},
        "authoredOn": "2026-04-02",
    }


def entry(
    resource: dict[str, Any],
    full_url: str | None = None,
    method: str = "POST",
    url: str | None = None,
    **request: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": resource,
        "request": {"method": method, "url": url or resource["resourceType"], **request},
    }
    if full_url:
        out["fullUrl"] = full_url
    return out


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def hl7_transaction() -> dict[str, Any]:
    """A transaction like the spec's: patient by urn:uuid, and clinical resources pointing at it."""
    return bundle(
        "transaction",
        entry(patient(), PATIENT_URL, ifNoneExist=f"identifier={MRN}|12345"),
        entry(encounter(), ENCOUNTER_URL),
        entry(glucose(encounter={"reference": ENCOUNTER_URL})),
        entry(condition()),
        entry(medication_request()),
        entry(
            {
                "resourceType": "Practitioner",
                "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "23"}],
            }
        ),
    )
