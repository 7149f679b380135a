"""Federated studies on the real network: completion, consent enforcement, tampering, resuming."""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

import numpy as np
import pytest

from medchain.aggregator.audit import audit_model
from medchain.aggregator.trainers import (
    SiteEvaluation,
    SiteStats,
    TrainedUpdate,
    TrainerClient,
)
from medchain.common.datasets import breast_cancer
from medchain.common.merkle import (
    exclusion_proof,
    inclusion_proof,
    merkle_root,
    verify_exclusion,
    verify_inclusion,
)
from medchain.common.studies import ModelConfig, StrategyConfig, StudySpec
from medchain.common.tensors import NamedTensor, Parameters
from medchain.demo.tables import breast_cancer_coding
from medchain.ledger import StudyLedger
from medchain.trainer.service import is_holdout
from tests.integration.support import until_endorsable
from tests.integration.training.conftest import Federation, Hospital

pytestmark = pytest.mark.integration


def pseudonym(hospital: Hospital, row: int) -> str:
    return hospital.pseudonym(row)


def consent_all(federation: Federation, study_id: str, *, decision: str = "permit") -> None:
    federation.consent_all(study_id, decision)


def spec_for(study_id: str, rounds: int, *, min_participants: int = 3) -> StudySpec:
    coding = breast_cancer_coding(breast_cancer().feature_names)
    return StudySpec(
        id=study_id,
        task="binary",
        features=coding.features(),
        model=ModelConfig(kind="logistic_regression", learning_rate=0.1, local_epochs=1, l2=0.0),
        strategy=StrategyConfig(name="fedavg"),
        rounds=rounds,
        participants=("h1MSP", "h2MSP", "h3MSP"),
        min_participants=min_participants,
        seed=11,
    )


def new_study_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_breast_cancer_study_completes_with_every_round_on_the_ledger(
    federation: Federation, tmp_path: Path
) -> None:
    study_id = new_study_id("bc")
    consent_all(federation, study_id)
    aggregator = federation.aggregator(tmp_path)
    view = aggregator.create(spec_for(study_id, rounds=4))
    assert view.spec.resolved
    aggregator.run_remaining(study_id)
    study = aggregator.ledger.get_study(study_id)
    assert study.status == "completed"
    assert study.current_round == 4
    rounds = aggregator.rounds(study_id)
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    for record in rounds:
        on_ledger = aggregator.ledger.get_round(study_id, record["round"])
        assert on_ledger.status == "committed"
        assert on_ledger.model_hash == record["model_hash"]
        assert on_ledger.included == ["h1MSP", "h2MSP", "h3MSP"]
        assert aggregator.models.has(record["model_hash"])
    assert rounds[-1]["metrics"]["accuracy"] > 0.9
    report = audit_model(study.current_model_hash, aggregator.ledger, aggregator.models, view.spec)
    assert report.ok, [c for c in report.checks if not c.ok]
    assert report.rounds == [4, 3, 2, 1]


def test_revoked_patient_leaves_later_cohorts_and_the_model(
    federation: Federation, tmp_path: Path
) -> None:
    study_id = new_study_id("revoke")
    consent_all(federation, study_id)
    h1 = federation.hospitals["h1"]
    train_rows = [r for r in h1.rows if not is_holdout(11, pseudonym(h1, r), 0.2)]
    flipped = train_rows[0]
    target = pseudonym(h1, flipped)
    aggregator = federation.aggregator(tmp_path)
    aggregator.create(spec_for(study_id, rounds=2))
    aggregator.run_remaining(study_id, max_rounds=1)
    first = {e.round: e for e in h1.trainer.round_log(study_id)}[1]
    ledger_round1 = aggregator.ledger.get_round(study_id, 1).updates["h1MSP"]
    assert target in first.cohort
    proof = inclusion_proof(first.cohort, target)
    assert verify_inclusion(
        ledger_round1.cohort_root, target, proof, size=ledger_round1.cohort_size
    )
    until_endorsable(lambda: h1.consents.revoke("h1MSP", target, study_id, secrets.token_hex(32)))
    aggregator.run_remaining(study_id)
    second = {e.round: e for e in h1.trainer.round_log(study_id)}[2]
    ledger_round2 = aggregator.ledger.get_round(study_id, 2).updates["h1MSP"]
    assert target not in second.cohort
    absence = exclusion_proof(second.cohort, target)
    assert verify_exclusion(ledger_round2.cohort_root, ledger_round2.cohort_size, target, absence)
    # The round-2 cohort is exactly the round-1 cohort without the revoked patient, so the
    # patient contributed nothing to h1's round-2 update or anything aggregated from it.
    assert ledger_round2.cohort_root == merkle_root([p for p in first.cohort if p != target])
    assert ledger_round2.cohort_size == ledger_round1.cohort_size - 1


class TamperingClient:
    """Passes calls through to a real trainer, but alters the parameters it returns."""

    def __init__(self, inner: TrainerClient) -> None:
        self.inner = inner
        self.org = inner.org

    def join(self, spec: StudySpec, timeout: float, after_tx_id: str = "") -> str:
        return self.inner.join(spec, timeout, after_tx_id)

    def feature_stats(self, spec: StudySpec, timeout: float) -> SiteStats:
        return self.inner.feature_stats(spec, timeout)

    def evaluate(self, spec: StudySpec, params: Parameters, timeout: float) -> SiteEvaluation:
        return self.inner.evaluate(spec, params, timeout)

    def train(
        self,
        spec: StudySpec,
        round_number: int,
        params: Parameters,
        timeout: float,
        after_tx_id: str = "",
    ) -> TrainedUpdate:
        update = self.inner.train(spec, round_number, params, timeout, after_tx_id)
        first = update.parameters[0].to_numpy()
        first.flat[0] += 0.5
        altered = [NamedTensor.from_numpy(update.parameters[0].name, first), *update.parameters[1:]]
        return TrainedUpdate(**{**update.__dict__, "parameters": altered})


def test_tampered_update_is_rejected_and_reported(federation: Federation, tmp_path: Path) -> None:
    study_id = new_study_id("tamper")
    consent_all(federation, study_id)
    clients = federation.trainer_clients()
    clients["h2MSP"] = TamperingClient(clients["h2MSP"])
    aggregator = federation.aggregator(tmp_path, clients)
    aggregator.create(spec_for(study_id, rounds=1, min_participants=2))
    aggregator.run_remaining(study_id)
    [round1] = aggregator.rounds(study_id)
    assert round1["included"] == ["h1MSP", "h3MSP"]
    assert "tampered" in round1["rejected"]["h2MSP"]
    assert aggregator.ledger.get_round(study_id, 1).included == ["h1MSP", "h3MSP"]


def test_aggregator_killed_mid_round_resumes_from_the_ledger(
    federation: Federation, tmp_path: Path
) -> None:
    study_id = new_study_id("resume")
    consent_all(federation, study_id)
    first = federation.aggregator(tmp_path)
    spec = first.create(spec_for(study_id, rounds=3)).spec
    first.run_remaining(study_id, max_rounds=1)
    # The aggregator opens round 2 and the hospitals train and commit, then it dies.
    ledger: StudyLedger = first.ledger
    opened = ledger.open_round(study_id, 2)
    global_params = first.models.get(ledger.get_study(study_id).current_model_hash)
    for client in federation.trainer_clients().values():
        client.train(spec, 2, global_params, 120, opened.tx_id)
    restarted = federation.aggregator(tmp_path)
    restarted.run_remaining(study_id)
    study = ledger.get_study(study_id)
    assert study.status == "completed"
    for number in (1, 2, 3):
        assert sorted(ledger.get_round(study_id, number).updates) == ["h1MSP", "h2MSP", "h3MSP"]
    for hospital in federation.hospitals.values():
        assert [e.round for e in hospital.trainer.round_log(study_id)] == [1, 2, 3]
    assert [r["round"] for r in restarted.rounds(study_id)] == [1, 2, 3]
    assert json.loads(json.dumps(restarted.rounds(study_id)[1]["included"])) == [
        "h1MSP",
        "h2MSP",
        "h3MSP",
    ]
    assert np.isfinite(restarted.rounds(study_id)[-1]["metrics"]["accuracy"])
