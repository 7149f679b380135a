"""The chaincode's rules hold on the real network, deployed by the project's own tooling."""

from __future__ import annotations

import secrets

import pytest

from medchain.ledger import (
    ChaincodeConflict,
    ChaincodePermissionDenied,
    ChaincodePreconditionFailed,
    ConsentLedger,
    RoundCommit,
    StudyInput,
    StudyLedger,
    UpdateInput,
)
from tests.integration.support import consent, until_endorsable

pytestmark = pytest.mark.integration


def test_h2_cannot_write_an_h1_patients_consent(consent_ledgers: dict[str, ConsentLedger]) -> None:
    h1_patient = consent("h1MSP", study="access-rules")
    with pytest.raises(ChaincodePermissionDenied, match="h1MSP"):
        until_endorsable(lambda: consent_ledgers["h2"].record(h1_patient))
    with pytest.raises(ChaincodePermissionDenied):
        until_endorsable(
            lambda: consent_ledgers["h2"].revoke(
                "h1MSP", h1_patient.pseudonym, h1_patient.study, secrets.token_hex(32)
            )
        )


def _new_study(coordinator: StudyLedger, *, epsilon: float) -> str:
    study_id = f"rules-{secrets.token_hex(4)}"
    until_endorsable(
        lambda: coordinator.create_study(
            StudyInput(
                id=study_id,
                spec_hash=secrets.token_hex(32),
                participants=["h1MSP", "h2MSP", "h3MSP"],
                rounds=3,
                min_participants=2,
                epsilon=epsilon,
                delta=1e-5,
                strategy="fedavg",
                initial_model_hash=secrets.token_hex(32),
            )
        )
    )
    return study_id


def _update(study_id: str, round_number: int, privacy: float = 0.0) -> UpdateInput:
    return UpdateInput(
        study_id=study_id,
        round=round_number,
        update_hash=secrets.token_hex(32),
        sample_count=100,
        cohort_root=secrets.token_hex(32),
        cohort_size=100,
        privacy_spent=privacy,
        metrics={"accuracy": 0.9},
    )


def test_second_update_from_one_org_in_a_round_fails(study_ledgers: dict[str, StudyLedger]) -> None:
    study_id = _new_study(study_ledgers["coordinator"], epsilon=0.0)
    for org in ("h1", "h2"):
        study_ledgers[org].join_study(study_id)
    study_ledgers["coordinator"].open_round(study_id, 1)
    first = study_ledgers["h1"].submit_update(_update(study_id, 1))
    assert first.value.org == "h1MSP"
    with pytest.raises(ChaincodeConflict, match="h1MSP"):
        study_ledgers["h1"].submit_update(_update(study_id, 1))
    assert list(study_ledgers["h2"].get_round(study_id, 1).updates) == ["h1MSP"]


def test_round_commit_beyond_the_privacy_budget_fails(
    study_ledgers: dict[str, StudyLedger],
) -> None:
    coordinator = study_ledgers["coordinator"]
    study_id = _new_study(coordinator, epsilon=1.0)
    for org in ("h1", "h2", "h3"):
        study_ledgers[org].join_study(study_id)
    coordinator.open_round(study_id, 1)
    for org in ("h1", "h2"):
        study_ledgers[org].submit_update(_update(study_id, 1, privacy=0.8))
    over_budget = RoundCommit(
        study_id=study_id,
        round=1,
        model_hash=secrets.token_hex(32),
        included=["h1MSP", "h2MSP"],
        metrics={"accuracy": 0.9},
        privacy_spent=1.5,
    )
    with pytest.raises(ChaincodePreconditionFailed, match="privacy"):
        coordinator.commit_round(over_budget)
    assert coordinator.get_round(study_id, 1).status == "open"
    within = over_budget.model_copy(update={"privacy_spent": 0.8})
    committed = coordinator.commit_round(within)
    assert committed.value.status == "committed"
    assert coordinator.get_study(study_id).privacy_spent == pytest.approx(0.8)


def test_only_the_coordinator_opens_rounds(study_ledgers: dict[str, StudyLedger]) -> None:
    study_id = _new_study(study_ledgers["coordinator"], epsilon=0.0)
    for org in ("h1", "h2"):
        study_ledgers[org].join_study(study_id)
    with pytest.raises(ChaincodePermissionDenied):
        study_ledgers["h2"].open_round(study_id, 1)
