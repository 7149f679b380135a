"""A hospital cannot change another hospital's patient: its keys are its own, and the ledger
refuses a service that signs as one hospital and writes for another."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from medchain.ledger import ChaincodeNotFound, ConsentLedger
from medchain.network.fabric_network import FabricNetwork
from tests.integration.consent.conftest import Hospital, consent_settings, running
from tests.unit.consent.examples import MRN, compact

pytestmark = pytest.mark.integration
STUDY = f"it-isolation-{secrets.token_hex(3)}"


def test_the_same_identifier_at_two_hospitals_is_two_patients(
    h1: Hospital, h2: Hospital, consent_ledgers: dict[str, ConsentLedger]
) -> None:
    mrn = secrets.token_hex(4)
    assert h1.post("/consents", {"consents": [compact(mrn, study=STUDY)]}).status_code == 201
    denied = h2.post("/consents", {"consents": [compact(mrn, study=STUDY, decision="deny")]})
    assert denied.status_code == 201

    at_h1 = h1.get(f"/consents/{MRN}|{mrn}").json()
    at_h2 = h2.get(f"/consents/{MRN}|{mrn}").json()

    assert at_h1["patient"] != at_h2["patient"]  # keyed pseudonyms of different secrets
    assert (at_h1["org"], at_h1["consents"][0]["decision"]) == ("h1MSP", "permit")
    assert (at_h2["org"], at_h2["consents"][0]["decision"]) == ("h2MSP", "deny")
    assert h1.filter(STUDY, [at_h1["patient"]], from_ledger=True).permitted == [at_h1["patient"]]
    with pytest.raises(ChaincodeNotFound):
        consent_ledgers["h1"].get("h1MSP", at_h2["patient"], STUDY)


def test_a_service_signing_as_another_hospital_is_refused_by_the_ledger(
    fabric_network: FabricNetwork, tmp_path: Path, consent_ledgers: dict[str, ConsentLedger]
) -> None:
    settings = consent_settings(fabric_network, tmp_path / "rogue", "h1", signer="h2")
    mrn = secrets.token_hex(4)
    with running(settings) as rogue:
        response = rogue.post("/consents", {"consents": [compact(mrn, study=STUDY)]})
        pseudonym = rogue.service.resolve_patient(f"{MRN}|{mrn}")

    assert response.status_code == 403, response.text
    issue = response.json()["issue"][0]
    assert issue["diagnostics"].startswith("PERMISSION_DENIED")
    with pytest.raises(ChaincodeNotFound):
        consent_ledgers["h1"].get("h1MSP", pseudonym, STUDY)
