"""The consent service on the real network: decisions reach the filter, proofs name the
endorsers, and a revoked patient leaves the filter as soon as the revocation commits."""

from __future__ import annotations

import secrets

import pytest

from medchain.ledger import ConsentLedger
from tests.integration.consent.conftest import Hospital
from tests.unit.consent.examples import MRN, consent, study_ext

pytestmark = pytest.mark.integration
FHIR_STUDY = f"it-flow-{secrets.token_hex(3)}"


def _record(hospital: Hospital, mrn: str, **options: object) -> str:
    document = consent(mrn, study=FHIR_STUDY, **options)  # type: ignore[arg-type]
    response = hospital.post("/fhir/Consent", document)
    assert response.status_code == 201, response.text
    return hospital.service.resolve_patient(f"{MRN}|{mrn}")


def test_decisions_reach_the_filter_and_a_revocation_leaves_it_at_once(
    h1: Hospital, consent_ledgers: dict[str, ConsentLedger]
) -> None:
    run = secrets.token_hex(4)
    permit = _record(h1, f"{run}-permit")
    deny = _record(h1, f"{run}-deny", decision="deny")
    nested = _record(h1, f"{run}-nested", nested=[{"type": "deny"}])
    expired = _record(h1, f"{run}-expired", period={"start": "2019", "end": "2020-06"})
    elsewhere = _record(
        h1, f"{run}-other", nested=[{"type": "deny", "extension": [study_ext("other-study")]}]
    )
    asked = [deny, permit, nested, expired, elsewhere, secrets.token_hex(32)]

    assert h1.filter(FHIR_STUDY, asked).permitted == [permit, elsewhere]
    assert h1.filter(FHIR_STUDY, asked, from_ledger=True).permitted == [permit, elsewhere]
    assert consent_ledgers["h1"].filter_permitted("h1MSP", FHIR_STUDY, asked).permitted == [
        permit,
        elsewhere,
    ]

    revoked = h1.delete(f"/consents/{MRN}|{run}-permit", study=FHIR_STUDY)

    assert revoked.status_code == 201, revoked.text
    cached = h1.filter(FHIR_STUDY, asked)
    assert cached.permitted == [elsewhere]
    assert cached.source == "cache"
    assert h1.filter(FHIR_STUDY, asked, from_ledger=True).permitted == [elsewhere]


def test_the_proof_names_the_transaction_block_and_endorsers(
    h1: Hospital, consent_ledgers: dict[str, ConsentLedger]
) -> None:
    mrn = secrets.token_hex(4)
    _record(h1, mrn, purposes=("HRESCH",))

    body = h1.get(f"/consents/{MRN}|{mrn}").json()

    assert [c["study"] for c in body["consents"]] == [FHIR_STUDY, "purpose:HRESCH"]
    proof = body["consents"][0]["proof"]
    on_ledger = consent_ledgers["h1"].get("h1MSP", body["patient"], FHIR_STUDY)
    assert proof["txId"] == on_ledger.tx_id
    status = h1.service.ledger.commit_status(proof["txId"])
    assert proof["blockNumber"] == status.block_number
    assert set(proof["endorsingOrgs"]) <= {"h1MSP", "h2MSP", "h3MSP"}
    assert len(proof["endorsingOrgs"]) >= 2  # MAJORITY of three hospitals
    history = h1.get(f"/consents/{MRN}|{mrn}/history").json()["history"]
    assert [h["version"] for h in history] == [1, 1]
