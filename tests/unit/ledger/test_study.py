"""`StudyLedger` against the fake Gateway: the exact arguments sent, the JSON parsed back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from medchain.ledger.gateway import Gateway
from medchain.ledger.study import (
    RoundCommit,
    RoundCommitted,
    StudyInput,
    StudyLedger,
    UpdateInput,
)

from .conftest import RunningFake
from .fake_gateway import Proposal

H = {"spec": "1" * 64, "init": "2" * 64, "model": "3" * 64, "update": "4" * 64, "cohort": "5" * 64}
STUDY_INPUT = {
    "id": "s-1",
    "specHash": H["spec"],
    "participants": ["h1MSP", "h2MSP"],
    "rounds": 3,
    "minParticipants": 2,
    "epsilon": 1.5,
    "delta": 1e-05,
    "strategy": "fedavg",
    "initialModelHash": H["init"],
}
STUDY = STUDY_INPUT | {
    "coordinator": {"mspId": "h1MSP", "id": "x509::CN=Admin@h1.medchain.local::CN=ca"},
    "joined": ["h1MSP"],
    "status": "created",
    "currentRound": 0,
    "currentModelHash": H["init"],
    "privacySpent": 0,
    "txId": "tx-s",
    "timestamp": "2026-02-01T08:00:00Z",
}
UPDATE = {
    "org": "h2MSP",
    "updateHash": H["update"],
    "sampleCount": 120,
    "cohortRoot": H["cohort"],
    "cohortSize": 130,
    "privacySpent": 0.5,
    "metrics": {"auc": 0.81},
    "txId": "tx-u",
    "timestamp": "2026-02-01T09:00:00Z",
}
OPEN_ROUND = {
    "studyId": "s-1",
    "round": 1,
    "status": "open",
    "openedTxId": "tx-o",
    "openedAt": "2026-02-01T08:30:00Z",
    "updates": {"h2MSP": UPDATE},
    "modelHash": "",
    "parentModelHash": H["init"],
    "included": [],
    "metrics": {},
    "privacySpent": 0,
    "committedTxId": "",
    "committedAt": "",
}
COMMITTED_ROUND = OPEN_ROUND | {
    "status": "committed",
    "modelHash": H["model"],
    "included": ["h2MSP"],
    "metrics": {"auc": 0.8},
    "privacySpent": 0.5,
    "committedTxId": "tx-c",
    "committedAt": "2026-02-01T10:00:00Z",
}


class Router:
    """Answers each function with canned JSON and remembers the proposals."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.seen: list[Proposal] = []

    def __call__(self, proposal: Proposal) -> bytes:
        self.seen.append(proposal)
        return json.dumps(self.answers[proposal.function.removeprefix("study:")]).encode()

    def sent(self, function: str) -> Proposal:
        return next(p for p in self.seen if p.function == f"study:{function}")


@pytest.fixture
def router(fake: RunningFake) -> Router:
    router = Router(
        {
            "CreateStudy": STUDY,
            "JoinStudy": STUDY | {"joined": ["h1MSP", "h2MSP"]},
            "OpenRound": OPEN_ROUND,
            "SubmitUpdate": UPDATE,
            "CommitRound": COMMITTED_ROUND,
            "GetStudy": STUDY,
            "ListStudies": [STUDY, STUDY | {"id": "s-2"}],
            "GetRound": OPEN_ROUND,
            "ModelLineage": {
                "modelHash": H["model"],
                "studyId": "s-1",
                "steps": [
                    {
                        "round": 1,
                        "modelHash": H["model"],
                        "parentModelHash": H["init"],
                        "included": ["h2MSP"],
                        "updates": {"h2MSP": H["update"]},
                        "txId": "tx-c",
                    }
                ],
            },
        }
    )
    fake.servicer.state.handler = router
    return router


@pytest.fixture
def ledger(gateway: Gateway) -> StudyLedger:
    return StudyLedger.for_network(gateway.get_network("medchain"))


def test_create_study_sends_the_documented_json(router: Router, ledger: StudyLedger) -> None:
    done = ledger.create_study(StudyInput.model_validate(STUDY_INPUT))

    sent = router.sent("CreateStudy")
    assert sent.kind == "endorse"
    assert sent.args == (json.dumps(STUDY_INPUT, sort_keys=True, separators=(",", ":")).encode(),)
    assert done.value.coordinator.msp_id == "h1MSP"
    assert done.value.current_model_hash == H["init"]
    assert done.tx_id == sent.tx_id


def test_round_lifecycle_arguments(router: Router, ledger: StudyLedger) -> None:
    joined = ledger.join_study("s-1")
    opened = ledger.open_round("s-1", 1)
    update = ledger.submit_update(
        UpdateInput(
            study_id="s-1",
            round=1,
            update_hash=H["update"],
            sample_count=120,
            cohort_root=H["cohort"],
            cohort_size=130,
            privacy_spent=0.5,
            metrics={"auc": 0.81},
        )
    )
    committed = ledger.commit_round(
        RoundCommit(
            study_id="s-1",
            round=1,
            model_hash=H["model"],
            included=["h2MSP"],
            metrics={"auc": 0.8},
            privacy_spent=0.5,
        )
    )

    assert router.sent("JoinStudy").args == (b"s-1",)
    assert router.sent("OpenRound").args == (b"s-1", b"1")
    assert json.loads(router.sent("SubmitUpdate").args[0]) == {
        "studyId": "s-1",
        "round": 1,
        "updateHash": H["update"],
        "sampleCount": 120,
        "cohortRoot": H["cohort"],
        "cohortSize": 130,
        "privacySpent": 0.5,
        "metrics": {"auc": 0.81},
    }
    assert router.sent("CommitRound").args == (
        b'{"included":["h2MSP"],"metrics":{"auc":0.8},"modelHash":"' + H["model"].encode() + b'",'
        b'"privacySpent":0.5,"round":1,"studyId":"s-1"}',
    )
    assert joined.value.joined == ["h1MSP", "h2MSP"]
    assert opened.value.status == "open"
    assert opened.value.committed_at is None
    assert opened.value.updates["h2MSP"].sample_count == 120
    assert update.value.metrics == {"auc": 0.81}
    assert committed.value.committed_at == dt.datetime(2026, 2, 1, 10, tzinfo=dt.UTC)
    assert len({joined.tx_id, opened.tx_id, update.tx_id, committed.tx_id}) == 4


def test_reads_are_evaluated(router: Router, ledger: StudyLedger) -> None:
    study = ledger.get_study("s-1")
    studies = ledger.list_studies()
    round_ = ledger.get_round("s-1", 1)
    lineage = ledger.model_lineage(H["model"])

    assert {p.kind for p in router.seen} == {"evaluate"}
    assert router.sent("ListStudies").args == ()
    assert router.sent("GetRound").args == (b"s-1", b"1")
    assert router.sent("ModelLineage").args == (H["model"].encode(),)
    assert study.epsilon == 1.5
    assert [s.id for s in studies] == ["s-1", "s-2"]
    assert round_.parent_model_hash == H["init"]
    assert lineage.steps[0].updates == {"h2MSP": H["update"]}


@pytest.mark.parametrize(
    "changes",
    [
        {"participants": []},
        {"participants": ["h1MSP", "h1MSP"]},
        {"minParticipants": 3},
        {"rounds": 0},
        {"epsilon": -1},
        {"delta": 1},
        {"strategy": ""},
        {"specHash": "x"},
    ],
)
def test_study_inputs_are_checked(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        StudyInput.model_validate(STUDY_INPUT | changes)


def test_zero_epsilon_means_no_budget() -> None:
    assert StudyInput.model_validate(STUDY_INPUT | {"epsilon": 0}).epsilon == 0


def test_round_committed_event_payload() -> None:
    payload = {
        "studyId": "s-1",
        "round": 1,
        "modelHash": H["model"],
        "included": ["h2MSP"],
        "txId": "tx-c",
    }
    assert RoundCommitted.model_validate(payload).included == ["h2MSP"]
