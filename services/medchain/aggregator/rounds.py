"""One federated round: open on the ledger, train everywhere, accept only ledger-matching updates,
aggregate, evaluate everywhere, store by hash, commit on the ledger."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from medchain.aggregator.accounting import epsilon_after
from medchain.aggregator.errors import RoundFailedError
from medchain.aggregator.model_store import ModelStore
from medchain.aggregator.strategies.base import ClientUpdate, Strategy
from medchain.aggregator.trainers import (
    SiteEvaluation,
    TrainedUpdate,
    TrainerCallError,
    TrainerClient,
)
from medchain.common.studies import StudySpec
from medchain.common.tensors import Parameters, parameters_hash
from medchain.ledger import ChaincodePreconditionFailed, RoundCommit, StudyLedger

T = TypeVar("T")


def call_all(
    clients: Sequence[TrainerClient], call: Callable[[TrainerClient], T]
) -> tuple[dict[str, T], dict[str, str]]:
    """Call every trainer in parallel; results by org, and the reason of each failure."""
    results: dict[str, T] = {}
    failures: dict[str, str] = {}
    if not clients:
        return results, failures
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = {client.org: pool.submit(call, client) for client in clients}
        for org, future in futures.items():
            try:
                results[org] = future.result()
            except TrainerCallError as exc:
                failures[org] = f"{exc.code}: {exc.message}"
    return results, failures


def weighted_metrics(evaluations: dict[str, SiteEvaluation]) -> dict[str, float]:
    """Sample-weighted mean of each metric over the sites that report it."""
    totals: dict[str, float] = {}
    weights: dict[str, float] = {}
    for evaluation in evaluations.values():
        for name, value in evaluation.metrics.items():
            if value == value:  # skip NaN (e.g. AUC on a one-class site)
                totals[name] = totals.get(name, 0.0) + value * evaluation.sample_count
                weights[name] = weights.get(name, 0.0) + evaluation.sample_count
    return {name: totals[name] / weights[name] for name in totals if weights[name] > 0}


@dataclass
class RoundOutcome:
    """Everything worth recording about a committed round."""

    round: int
    model_hash: str
    parent_model_hash: str
    included: list[str]
    missing: dict[str, str]
    rejected: dict[str, str]
    updates: dict[str, dict[str, Any]]
    evaluation: dict[str, dict[str, float]]
    evaluation_failures: dict[str, str]
    metrics: dict[str, float]
    privacy_spent: float
    opened_tx_id: str
    committed_tx_id: str
    committed_block: int
    timings: dict[str, float] = field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        return {
            "included": self.included,
            "missing": self.missing,
            "rejected": self.rejected,
            "updates": self.updates,
            "evaluation": self.evaluation,
            "evaluation_failures": self.evaluation_failures,
            "metrics": self.metrics,
            "privacy_spent": self.privacy_spent,
            "opened_tx_id": self.opened_tx_id,
            "timings": self.timings,
        }


def accept(update: TrainedUpdate, ledger_hashes: dict[str, str]) -> str | None:
    """Why an update must be refused (None when its bytes match the hash the ledger committed)."""
    committed = ledger_hashes.get(update.org)
    if committed is None:
        return "no update from this org is committed on the ledger for this round"
    actual = parameters_hash(update.parameters)
    if actual != committed:
        return f"parameters hash to {actual}, the ledger committed {committed}: tampered"
    if update.update_hash != committed:
        return f"reported hash {update.update_hash} differs from the ledger's {committed}"
    return None


def open_round(ledger: StudyLedger, study_id: str, number: int, attempts: int = 20) -> str:
    """Open a round; endorsing peers other than ours may not yet hold the previous commit.

    Their chaincode then answers that the previous round is not committed. That clears as soon
    as the block reaches them, so only that answer is retried, briefly; anything else is raised.
    """
    for attempt in range(attempts):
        try:
            return ledger.open_round(study_id, number).tx_id
        except ChaincodePreconditionFailed as exc:
            if "is not committed" not in exc.message or attempt == attempts - 1:
                raise
            time.sleep(0.25)
    raise AssertionError("unreachable")


def run_round(
    spec: StudySpec,
    number: int,
    *,
    ledger: StudyLedger,
    clients: Sequence[TrainerClient],
    strategy: Strategy,
    store: ModelStore,
    evaluation_timeout: float,
) -> RoundOutcome:
    """Run round `number` of a study whose ledger state allows it (opening it if needed)."""
    started = time.perf_counter()
    study = ledger.get_study(spec.id)
    ledger_time = 0.0
    opened_tx = ""
    if study.current_round < number:
        t = time.perf_counter()
        opened_tx = open_round(ledger, spec.id, number)
        ledger_time += time.perf_counter() - t
        anchor = opened_tx
    else:
        anchor = ledger.get_round(spec.id, number).opened_tx_id
    global_hash = study.current_model_hash
    global_params = store.get(global_hash)
    joined = set(study.joined)
    participants = [c for c in clients if c.org in joined]
    t_train = time.perf_counter()
    trained, missing = call_all(
        participants,
        lambda c: c.train(spec, number, global_params, spec.round_deadline_s, anchor),
    )
    train_wall = time.perf_counter() - t_train
    for org in sorted(set(spec.participants) - joined):
        missing[org] = "did not join the study"
    t = time.perf_counter()
    for update in trained.values():  # the updates went through other peers: wait for ours
        if update.tx_id:
            ledger.wait_until_committed(update.tx_id)
    ledger_round = ledger.get_round(spec.id, number)
    ledger_time += time.perf_counter() - t
    hashes = {org: u.update_hash for org, u in ledger_round.updates.items()}
    rejected: dict[str, str] = {}
    accepted: list[TrainedUpdate] = []
    for org, update in sorted(trained.items()):
        reason = accept(update, hashes)
        if reason is None:
            accepted.append(update)
        else:
            rejected[org] = reason
    if len(accepted) < spec.min_participants:
        raise RoundFailedError(
            f"round {number}: {len(accepted)} accepted updates, {spec.min_participants} needed; "
            f"missing {missing}, rejected {rejected}"
        )
    for update in accepted:
        store.put(update.parameters)
    new_params: Parameters = strategy.aggregate(
        global_params,
        [ClientUpdate(u.org, u.parameters, u.sample_count) for u in accepted],
    )
    model_hash = store.put(new_params)
    t_eval = time.perf_counter()
    evaluations, eval_failures = call_all(
        participants, lambda c: c.evaluate(spec, new_params, evaluation_timeout)
    )
    eval_wall = time.perf_counter() - t_eval
    metrics = weighted_metrics(evaluations)
    privacy = 0.0
    if spec.privacy.enabled:
        privacy = epsilon_after(number, spec.privacy.noise_multiplier, 1.0, spec.privacy.delta)
    t = time.perf_counter()
    committed = ledger.commit_round(
        RoundCommit(
            study_id=spec.id,
            round=number,
            model_hash=model_hash,
            included=sorted(u.org for u in accepted),
            metrics={k: v for k, v in metrics.items() if v == v},
            privacy_spent=privacy,
        )
    )
    ledger_time += time.perf_counter() - t
    total = time.perf_counter() - started
    training = max((u.timings.get("training", 0.0) for u in accepted), default=0.0)
    trainer_ledger = max((u.timings.get("ledger", 0.0) for u in accepted), default=0.0)
    return RoundOutcome(
        round=number,
        model_hash=model_hash,
        parent_model_hash=global_hash,
        included=sorted(u.org for u in accepted),
        missing=missing,
        rejected=rejected,
        updates={
            u.org: {
                "update_hash": u.update_hash,
                "tx_id": u.tx_id,
                "block_number": u.block_number,
                "sample_count": u.sample_count,
                "cohort_root": u.cohort_root,
                "cohort_size": u.cohort_size,
                "privacy_spent": u.privacy_spent,
                "metrics": u.metrics,
            }
            for u in accepted
        },
        evaluation={
            org: {**e.metrics, "num_samples": float(e.sample_count)}
            for org, e in evaluations.items()
        },
        evaluation_failures=eval_failures,
        metrics=metrics,
        privacy_spent=privacy,
        opened_tx_id=opened_tx,
        committed_tx_id=committed.tx_id,
        committed_block=committed.block_number,
        timings={
            "total_s": total,
            "training_s": training,
            "ledger_s": ledger_time + trainer_ledger,
            "evaluation_s": eval_wall,
            "transfer_and_other_s": max(
                total - training - ledger_time - trainer_ledger - eval_wall, 0.0
            ),
            "train_call_wall_s": train_wall,
        },
    )
