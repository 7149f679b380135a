"""Round bookkeeping: which updates are accepted, how site metrics combine, the model store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medchain.aggregator.errors import ModelNotFoundError, TamperedArtifactError
from medchain.aggregator.model_store import ModelStore
from medchain.aggregator.rounds import accept, open_round, weighted_metrics
from medchain.aggregator.trainers import SiteEvaluation, TrainedUpdate
from medchain.common.tensors import NamedTensor, parameters_hash
from medchain.ledger import ChaincodePreconditionFailed


def params(value: float) -> list[NamedTensor]:
    return [
        NamedTensor.from_numpy("coef", np.full((1, 2), value)),
        NamedTensor.from_numpy("intercept", [value]),
    ]


def update(org: str, value: float, reported: str | None = None) -> TrainedUpdate:
    p = params(value)
    return TrainedUpdate(
        org=org,
        round=1,
        parameters=p,
        sample_count=10,
        update_hash=reported or parameters_hash(p),
        cohort_root="0" * 64,
        cohort_size=10,
        privacy_spent=0.0,
        metrics={},
        tx_id="t",
        block_number=1,
    )


def test_update_matching_the_ledger_is_accepted() -> None:
    good = update("h1MSP", 0.5)
    assert accept(good, {"h1MSP": good.update_hash}) is None


def test_update_whose_bytes_changed_after_commit_is_refused_as_tampered() -> None:
    committed = parameters_hash(params(0.5))
    altered = update("h1MSP", 0.6, reported=committed)
    reason = accept(altered, {"h1MSP": committed})
    assert reason is not None
    assert "tampered" in reason


def test_update_without_a_ledger_record_is_refused() -> None:
    reason = accept(update("h2MSP", 0.1), {"h1MSP": "a" * 64})
    assert reason is not None
    assert "no update" in reason


def test_misreported_hash_is_refused() -> None:
    honest = update("h1MSP", 0.5)
    liar = update("h1MSP", 0.5, reported="b" * 64)
    assert accept(liar, {"h1MSP": honest.update_hash}) is not None


def test_site_metrics_are_sample_weighted_and_nan_skipped() -> None:
    combined = weighted_metrics(
        {
            "h1MSP": SiteEvaluation("h1MSP", 30, {"accuracy": 0.9, "auc": float("nan")}),
            "h2MSP": SiteEvaluation("h2MSP", 10, {"accuracy": 0.5, "auc": 0.8}),
        }
    )
    assert combined["accuracy"] == pytest.approx((0.9 * 30 + 0.5 * 10) / 40)
    assert combined["auc"] == pytest.approx(0.8)


def test_model_store_round_trip_and_tamper_detection(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    digest = store.put(params(0.25))
    assert store.put(params(0.25)) == digest
    assert parameters_hash(store.get(digest)) == digest
    other = ModelStore(tmp_path / "elsewhere")
    other_digest = other.put(params(0.75))
    store.path(digest).write_bytes(other.raw(other_digest))
    with pytest.raises(TamperedArtifactError):
        store.get(digest)
    with pytest.raises(ModelNotFoundError):
        store.get("c" * 64)
    with pytest.raises(ModelNotFoundError):
        store.path("../../etc/passwd")


def test_garbage_in_the_store_is_reported_as_tampering_not_a_crash(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    digest = store.put(params(0.5))
    store.path(digest).write_bytes(b"\x08\xff\xff not a tensor set")
    with pytest.raises(TamperedArtifactError, match="not a parameter set"):
        store.get(digest)


class _LaggingLedger:
    """Answers 'not committed' a few times, as peers a block behind do, then opens the round."""

    def __init__(self, lagging: int, message: str = "round 1 of study s is not committed") -> None:
        self.lagging = lagging
        self.message = message
        self.calls = 0

    def open_round(self, study_id: str, number: int) -> object:
        self.calls += 1
        if self.calls <= self.lagging:
            raise ChaincodePreconditionFailed(
                f"FAILED_PRECONDITION: {self.message}", reason=self.message
            )

        class Done:
            tx_id = "t" * 64

        return Done()


def test_open_round_waits_out_peers_a_block_behind() -> None:
    ledger = _LaggingLedger(lagging=3)
    assert open_round(ledger, "s", 2, attempts=5) == "t" * 64  # type: ignore[arg-type]
    assert ledger.calls == 4


def test_open_round_raises_other_preconditions_at_once() -> None:
    ledger = _LaggingLedger(lagging=1, message="round 3 exceeds the study's 2 rounds")
    with pytest.raises(ChaincodePreconditionFailed):
        open_round(ledger, "s", 3)  # type: ignore[arg-type]
    assert ledger.calls == 1
