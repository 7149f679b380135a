"""One MedChain study run in-process on a real network, with everything the benchmarks report.

The table is split non-IID across the network's hospitals (Dirichlet over labels, alpha 0.8,
seed 3, as the integration tests do), posted to each hospital's ingest as FHIR bundles, every
patient permits the study on the ledger, and the aggregator creates the study (site sums, pooled
standardization, ledger) and runs every round: open on the ledger, train at every hospital (each
commits its update hash and cohort Merkle root), accept only ledger-matching updates, FedAvg,
evaluate at every hospital, commit the round. The splits each trainer used are read back, so the
baselines can train on exactly the same rows.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bench.inprocess_federation import SiteSplit, federation, site_splits
from medchain.aggregator.errors import RoundFailedError, StudyDefinitionError
from medchain.aggregator.service import AggregatorService
from medchain.aggregator.trainers import TrainerCallError, TrainerClient
from medchain.common.datasets import Dataset, IndexArray, breast_cancer, diabetes, non_iid_split
from medchain.common.studies import ModelConfig, StrategyConfig, StudySpec
from medchain.common.tensors import Parameters
from medchain.demo.baselines import SiteRows, pooled_and_local
from medchain.demo.tables import TableCoding, breast_cancer_coding, diabetes_coding
from medchain.ledger import LedgerError
from medchain.network.fabric_network import FabricNetwork
from medchain.trainer import models
from medchain.trainer.service import model_spec

DatasetName = Literal["breast_cancer", "diabetes"]
SPLIT_ALPHA = 0.8
SPLIT_SEED = 3
STUDY_SEED = 11
MAX_RESUMES = 3


def table(name: DatasetName) -> tuple[Dataset, TableCoding]:
    if name == "breast_cancer":
        data = breast_cancer()
        return data, breast_cancer_coding(data.feature_names)
    return diabetes(), diabetes_coding()


def parts_for(data: Dataset, hospitals: int) -> list[IndexArray]:
    min_size = max(20, min(60, len(data) // (2 * hospitals)))
    return non_iid_split(data, hospitals, alpha=SPLIT_ALPHA, seed=SPLIT_SEED, min_size=min_size)


def model_config(name: DatasetName) -> ModelConfig:
    """The demo's models: logistic regression (rate 0.1, 1 epoch) and linear (0.05, 2 epochs)."""
    if name == "breast_cancer":
        return ModelConfig(
            kind="logistic_regression", learning_rate=0.1, local_epochs=1, batch_size=32, l2=0.0
        )
    return ModelConfig(
        kind="linear_regression", learning_rate=0.05, local_epochs=2, batch_size=32, l2=0.0
    )


@dataclass
class StudyRun:
    dataset: DatasetName
    metric: str
    spec: StudySpec
    rounds: list[dict[str, Any]]
    splits: list[SiteSplit]
    setup_s: dict[str, float]
    baseline: dict[str, Any]
    #: Rounds that failed once and were finished by the aggregator's resume-from-ledger path,
    #: with the failure; their recorded timings cover only the resumed part.
    resumed: dict[int, str]
    #: Other recoveries (re-joins after study creation), with the error that caused them.
    events: list[str]

    def clean_rounds(self) -> list[dict[str, Any]]:
        """The rounds that ran start to finish in one go."""
        return [r for r in self.rounds if int(r["round"]) not in self.resumed]

    def union_metric(self, params: Parameters) -> float:
        """The round model's metric on the union of every hospital's held-out rows."""
        x = np.vstack([s.holdout_x for s in self.splits])
        y = np.concatenate([s.holdout_y for s in self.splits])
        mspec = model_spec(self.spec, x.shape[1])
        return float(models.evaluate(mspec, params, x, y)[self.metric])


def run_with_resume(aggregator: AggregatorService, study_id: str) -> dict[int, str]:
    """Run every round; when one fails, resume from the ledger as a restarted aggregator would,
    and return each failed round with its error (at most MAX_RESUMES of them)."""
    failed: dict[int, str] = {}
    while True:
        try:
            aggregator.run_remaining(study_id)
            return failed
        except (RoundFailedError, LedgerError, TrainerCallError) as exc:
            number = len(aggregator.rounds(study_id)) + 1
            failed[number] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
            if len(failed) > MAX_RESUMES:
                raise
            time.sleep(1.0)


def rejoin(
    aggregator: AggregatorService, clients: dict[str, TrainerClient], spec: StudySpec
) -> list[str]:
    """Ask every participant that has not joined on the ledger to join (after a pause)."""
    for _ in range(10):
        time.sleep(1.0)
        joined = set(aggregator.ledger.get_study(spec.id).joined)
        missing = [org for org in spec.participants if org not in joined]
        if not missing:
            return []
        try:
            for org in missing:
                clients[org].join(spec, 120.0)
            return missing
        except TrainerCallError:
            continue
    raise RuntimeError(f"participants of {spec.id} could not join")


def run_study(
    network: FabricNetwork, root: Path, dataset: DatasetName, rounds: int
) -> tuple[StudyRun, list[float]]:
    """Run the study; also returns each round's metric on the union of the held-out rows."""
    data, coding = table(dataset)
    parts = parts_for(data, len(network.layout.orgs))
    started = time.perf_counter()
    events: list[str] = []
    with federation(network, root, data, coding, parts) as fed:
        ingested = time.perf_counter()
        study_id = f"bench-{dataset.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        fed.consent_all(study_id)
        consented = time.perf_counter()
        aggregator = fed.aggregator(root / "aggregator")
        task = "regression" if dataset == "diabetes" else "binary"
        requested = StudySpec(
            id=study_id,
            title=f"MedChain benchmark: {dataset}",
            task=task,
            features=coding.features(),
            model=model_config(dataset),
            strategy=StrategyConfig(name="fedavg"),
            rounds=rounds,
            participants=tuple(f"{o}MSP" for o in fed.orgs),
            min_participants=len(fed.orgs),
            seed=STUDY_SEED,
        )
        try:
            spec = aggregator.create(requested).spec
        except StudyDefinitionError as exc:
            # A trainer asked to join before its own peer had the block creating the study; do
            # what an operator would: join the missing hospitals again.
            if "joined" not in str(exc):
                raise
            spec = aggregator.spec(study_id)
            rejoined = rejoin(aggregator, fed.trainer_clients(), spec)
            events.append(f"study creation: {exc}; re-joined {', '.join(rejoined)}")
        created = time.perf_counter()
        splits = site_splits(fed, spec)
        resumed = run_with_resume(aggregator, study_id)
        records = aggregator.rounds(study_id)
        status = aggregator.ledger.get_study(study_id).status
        if status != "completed" or len(records) != rounds:
            raise RuntimeError(f"study {study_id} is {status} after {len(records)} rounds")
        params = [aggregator.models.get(r["model_hash"]) for r in records]
    metric = "rmse" if dataset == "diabetes" else "accuracy"
    baseline = pooled_and_local(
        "regression" if dataset == "diabetes" else "classification",
        [SiteRows(s.hospital, s.train_raw, s.train_y, s.holdout_raw, s.holdout_y) for s in splits],
    )
    run = StudyRun(
        dataset,
        metric,
        spec,
        records,
        splits,
        {
            "services_and_ingest_s": ingested - started,
            "consents_on_ledger_s": consented - ingested,
            "study_create_s": created - consented,
        },
        baseline,
        resumed,
        events,
    )
    return run, [run.union_metric(p) for p in params]


def write_study_files(run: StudyRun, directory: Path) -> None:
    """The study for the baseline frameworks: config.json and one .npz per hospital."""
    directory.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "dataset": run.dataset,
        "rounds": run.spec.rounds,
        "seed": run.spec.seed,
        "learning_rate": run.spec.model.learning_rate,
        "local_epochs": run.spec.model.local_epochs,
        "batch_size": run.spec.model.batch_size,
        "l2": run.spec.model.l2,
        "sites": [],
    }
    for split in run.splits:
        name = f"{split.hospital}.npz"
        np.savez(
            directory / name,
            train_x=split.train_x,
            train_y=split.train_y,
            holdout_x=split.holdout_x,
            holdout_y=split.holdout_y,
        )
        config["sites"].append(
            {"name": split.hospital, "org_number": split.org_number, "file": name}
        )
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")
