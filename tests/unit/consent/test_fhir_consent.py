"""FHIR Consent validation, table-driven: what the R4B model checks and what MedChain adds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from medchain.consent.errors import InvalidConsentError
from medchain.consent.fhir_consent import parse_consent
from tests.unit.consent.examples import consent, purpose, study_ext, with_value, without

UTC = dt.UTC
BASE = consent()

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("status outside its code list", with_value(BASE, "approved", "status"), "code-invalid",
     "Consent.status"),
    ("status missing", without(BASE, "status"), "structure", "Consent.status"),
    ("scope not research or privacy",
     with_value(BASE, {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                   "code": "treatment"}]}, "scope"),
     "code-invalid", "Consent.scope"),
    ("scope from another system",
     with_value(BASE, {"coding": [{"system": "urn:local", "code": "research"}]}, "scope"),
     "code-invalid", "Consent.scope"),
    ("no patient", without(BASE, "patient"), "required", "Consent.patient"),
    ("patient without identifier", with_value(BASE, {"reference": "Patient/1"}, "patient"),
     "required", "Consent.patient.identifier"),
    ("identifier system with a bar",
     with_value(BASE, {"identifier": {"system": "urn:a|b", "value": "1"}}, "patient"),
     "value", "Consent.patient"),
    ("neither policy nor policyRule", without(BASE, "policyRule"), "required", "Consent"),
    ("no provision", without(BASE, "provision"), "required", "Consent.provision"),
    ("provision without type", without(BASE, "provision", "type"), "required",
     "Consent.provision"),
    ("provision type outside permit/deny", with_value(BASE, "maybe", "provision", "type"),
     "code-invalid", "Consent.provision"),
    ("nested provision without type",
     with_value(BASE, [{"purpose": [purpose("HMARKT")]}], "provision", "provision"),
     "required", "Consent.provision.provision[0]"),
    ("period that does not parse", with_value(BASE, {"start": "2024-13-01"}, "provision", "period"),
     "structure", "Consent.provision.period.start"),
    ("period ending before it starts",
     with_value(BASE, {"start": "2025-01-01", "end": "2024-06-30"}, "provision", "period"),
     "value", "Consent.provision.period"),
    ("purpose code outside ActReason",
     with_value(BASE, [purpose("NOTACODE")], "provision", "purpose"),
     "code-invalid", "Consent.provision.purpose[0]"),
    ("purpose from another system",
     with_value(BASE, [{"system": "urn:local", "code": "HRESCH"}], "provision", "purpose"),
     "code-invalid", "Consent.provision.purpose[0]"),
    ("study reference to something else",
     with_value(BASE, [{**study_ext("x"), "valueReference": {"reference": "Patient/1"}}],
                "extension"),
     "value", "Consent.extension[0].valueReference"),
    ("study id the ledger refuses", with_value(BASE, [study_ext("has space")], "extension"),
     "value", "Consent.extension[0].valueReference"),
    ("study id in the purpose namespace", with_value(BASE, [study_ext("purpose:X")], "extension"),
     "value", "Consent.extension[0].valueReference"),
    ("no study and no purpose", consent(study=None), "required", "Consent.provision"),
    ("not a Consent", with_value(BASE, "Patient", "resourceType"), "invalid",
     "Consent.resourceType"),
    ("unknown element", with_value(BASE, 1, "colour"), "structure", "Consent.colour"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "code", "expression"),
    [pytest.param(doc, code, where, id=name) for name, doc, code, where in INVALID],
)
def test_invalid_consents_name_the_problem(
    document: dict[str, Any], code: str, expression: str
) -> None:
    with pytest.raises(InvalidConsentError) as caught:
        parse_consent(document)
    found = [(i.code.value, i.expression) for i in caught.value.issues]
    assert (code, expression) in found, found


def test_every_problem_is_reported_at_once() -> None:
    document = with_value(without(BASE, "policyRule"), "approved", "status")
    with pytest.raises(InvalidConsentError) as caught:
        parse_consent(document)
    assert {i.expression for i in caught.value.issues} == {"Consent", "Consent.status"}


def test_a_permit_for_a_study_and_a_purpose() -> None:
    parsed = parse_consent(consent(purposes=("HRESCH",), period={"start": "2024", "end": "2026"}))

    assert parsed.patient.system.endswith("19.5")
    assert parsed.patient.value == "12345"
    assert [(d.study, d.decision) for d in parsed.decisions] == [
        ("diabetes-2026", "permit"),
        ("purpose:HRESCH", "permit"),
    ]
    validity = parsed.decisions[0].validity
    assert validity.start == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert validity.end == dt.datetime(2027, 1, 1, tzinfo=UTC)  # FHIR end includes all of 2026


@pytest.mark.parametrize(
    "status", ["inactive", "rejected", "draft", "proposed", "entered-in-error"]
)
def test_only_an_active_consent_permits(status: str) -> None:
    parsed = parse_consent(consent(status=status))
    assert [(d.study, d.decision) for d in parsed.decisions] == [("diabetes-2026", "deny")]


def test_a_deny_is_recorded_as_deny() -> None:
    parsed = parse_consent(consent(decision="deny"))
    assert [d.decision for d in parsed.decisions] == ["deny"]


def test_a_nested_deny_without_targets_overrides_its_parent() -> None:
    parsed = parse_consent(consent(purposes=("HRESCH",), nested=[{"type": "deny"}]))
    assert {(d.study, d.decision) for d in parsed.decisions} == {
        ("diabetes-2026", "deny"),
        ("purpose:HRESCH", "deny"),
    }


def test_a_nested_deny_of_one_study_leaves_the_rest_permitted() -> None:
    nested = [{"type": "deny", "extension": [study_ext("marketing-1")]}]
    parsed = parse_consent(consent(study=None, purposes=("HRESCH",), nested=nested))
    assert [(d.study, d.decision) for d in parsed.decisions] == [
        ("purpose:HRESCH", "permit"),
        ("marketing-1", "deny"),
    ]


def test_a_patient_reference_with_an_identifier_is_enough() -> None:
    document = with_value(
        BASE,
        {"reference": "Patient/p1", "identifier": {"system": "urn:x", "value": "9"}},
        "patient",
    )
    assert parse_consent(document).patient.value == "9"
