"""The trainer's logic: verify the study against the ledger, pick the consented cohort, train,
commit the update's hash to the ledger, and keep the round log. No transport code here."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.common.merkle import merkle_root, sorted_cohort
from medchain.common.serde import parameters_from_bytes, parameters_to_bytes
from medchain.common.studies import StudySpec
from medchain.common.tensors import Parameters, parameters_hash
from medchain.ledger import ChaincodeNotFound, StudyLedger, UpdateInput
from medchain.trainer import models
from medchain.trainer.datasource import CohortSource, ConsentGate, Rows
from medchain.trainer.errors import (
    NoEligiblePatientsError,
    RoundNotOpenError,
    StudyMismatchError,
    StudyNotFoundError,
)
from medchain.trainer.objective import FloatArray
from medchain.trainer.privacy import privatize_update
from medchain.trainer.spec import ModelSpec
from medchain.trainer.standardization import FeatureMoments
from medchain.trainer.store import RoundLog, RoundLogEntry

#: Feature statistics are only shared over at least this many patients.
MIN_STATS_COHORT = 5


def is_holdout(seed: int, pseudonym: str, fraction: float) -> bool:
    """Deterministic held-out split: the same patient is always on the same side of a study."""
    digest = hashlib.sha256(f"{seed}|{pseudonym}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def model_spec(spec: StudySpec, n_features: int) -> ModelSpec:
    """The trainer's model definition for a study."""
    return ModelSpec(
        kind=spec.model_kind(),
        n_features=n_features,
        classes=spec.classes if spec.task != "regression" else (),
        hidden_units=spec.model.hidden_units,
        learning_rate=spec.model.learning_rate,
        local_epochs=spec.model.local_epochs,
        batch_size=spec.model.batch_size,
        l2=spec.model.l2,
        seed=spec.seed,
    )


@dataclass(frozen=True)
class Split:
    """A study's eligible patients (complete data, consent permits now), split train/held-out."""

    train: list[str]
    holdout: list[str]
    consent_block_height: int


@dataclass(frozen=True)
class FeatureStats:
    columns: tuple[str, ...]
    moments: FeatureMoments
    labels: tuple[float, ...]


@dataclass(frozen=True)
class JoinResult:
    eligible_patients: int
    tx_id: str
    block_number: int
    already_joined: bool


@dataclass(frozen=True)
class TrainResult:
    round: int
    parameters: Parameters
    sample_count: int
    update_hash: str
    cohort_root: str
    cohort_size: int
    privacy_spent: float
    metrics: dict[str, float]
    tx_id: str
    block_number: int
    consent_block_height: int
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationResult:
    sample_count: int
    metrics: dict[str, float]


class TrainerService:
    """One hospital's trainer."""

    def __init__(
        self,
        msp_id: str,
        studies: StudyLedger,
        cohort: CohortSource,
        consent: ConsentGate,
        sessions: sessionmaker[Session],
    ) -> None:
        self.msp_id = msp_id
        self.studies = studies
        self.cohort = cohort
        self.consent = consent
        self.sessions = sessions
        self.log = RoundLog()

    # -- the study -------------------------------------------------------------------------------

    def verified(self, spec_json: str) -> StudySpec:
        """The spec, if the ledger holds its hash and lists this hospital as a participant."""
        spec = parse_spec(spec_json)
        try:
            study = self.studies.get_study(spec.id)
        except ChaincodeNotFound as exc:
            raise StudyNotFoundError(f"study {spec.id!r} is not on the ledger") from exc
        if study.spec_hash != spec.spec_hash:
            raise StudyMismatchError(
                f"the spec sent hashes to {spec.spec_hash}, the ledger holds {study.spec_hash}"
            )
        if self.msp_id not in study.participants:
            raise StudyMismatchError(f"{self.msp_id} is not a participant of study {spec.id}")
        return spec

    def split(self, spec: StudySpec) -> Split:
        candidates = self.cohort.cohort(spec.features)
        permitted, height = self.consent.permitted(spec.id, candidates) if candidates else ([], 0)
        ordered = sorted_cohort(permitted)
        holdout = [p for p in ordered if is_holdout(spec.seed, p, spec.holdout_fraction)]
        held = set(holdout)
        return Split([p for p in ordered if p not in held], holdout, height)

    def _catch_up(self, after_tx_id: str) -> None:
        if after_tx_id:
            self.studies.wait_until_committed(after_tx_id)

    def join(self, spec_json: str, after_tx_id: str = "") -> JoinResult:
        """Record on the ledger that this hospital takes part, after checking it has the data."""
        self._catch_up(after_tx_id)
        spec = self.verified(spec_json)
        split = self.split(spec)
        eligible = len(split.train) + len(split.holdout)
        study = self.studies.get_study(spec.id)
        if self.msp_id in study.joined:
            return JoinResult(eligible, study.tx_id, 0, already_joined=True)
        if not split.train:
            raise NoEligiblePatientsError(f"no consented patient with complete data for {spec.id}")
        done = self.studies.join_study(spec.id)
        return JoinResult(eligible, done.tx_id, done.block_number, already_joined=False)

    def feature_stats(self, spec_json: str) -> FeatureStats:
        """Per-column sums over the training cohort (before the study exists on the ledger)."""
        spec = parse_spec(spec_json)
        split = self.split(spec)
        if len(split.train) < MIN_STATS_COHORT:
            raise NoEligiblePatientsError(
                f"{len(split.train)} eligible patients; statistics need at least {MIN_STATS_COHORT}"
            )
        rows = self.cohort.rows(spec.features, split.train)
        labels = (
            tuple(float(v) for v in np.unique(rows.labels)) if spec.task != "regression" else ()
        )
        return FeatureStats(rows.columns, FeatureMoments.of(rows.features), labels)

    # -- a round ---------------------------------------------------------------------------------

    def train(
        self,
        spec_json: str,
        round_number: int,
        global_params: Parameters,
        after_tx_id: str = "",
    ) -> TrainResult:
        """Train one round from the global model and commit the update's hash to the ledger."""
        started = time.perf_counter()
        self._catch_up(after_tx_id)
        spec = self.verified(spec_json)
        if not spec.resolved:
            raise StudyMismatchError("the study's classes and standardization are not resolved")
        with transaction(self.sessions) as session:
            logged = self.log.get(session, spec.id, round_number)
        if logged is not None and logged.tx_id:
            return _result_from_log(logged)
        ledger_round = self.studies.get_round(spec.id, round_number)
        if ledger_round.status != "open":
            raise RoundNotOpenError(f"round {round_number} of {spec.id} is {ledger_round.status}")
        study = self.studies.get_study(spec.id)
        global_hash = parameters_hash(global_params)
        if global_hash != study.current_model_hash:
            raise StudyMismatchError(
                f"global parameters hash to {global_hash}, the ledger's current model is "
                f"{study.current_model_hash}"
            )
        if self.msp_id in ledger_round.updates:
            raise RoundNotOpenError(
                f"{self.msp_id} already submitted to round {round_number} and has no log of it"
            )
        split = self.split(spec)
        if not split.train:
            raise NoEligiblePatientsError(f"no consented patient with complete data for {spec.id}")
        rows = self.cohort.rows(spec.features, split.train)
        x = standardised(spec, rows)
        data_done = time.perf_counter()
        mspec = model_spec(spec, x.shape[1])
        rng = np.random.default_rng([spec.seed, round_number, _org_number(self.msp_id)])
        params, fit = models.train(
            mspec, global_params, x, rows.labels, proximal_mu=spec.strategy.proximal_mu, rng=rng
        )
        privacy_spent = 0.0
        if spec.privacy.enabled:
            private = privatize_update(
                global_params,
                params,
                clip_norm=spec.privacy.clip_norm,
                noise_multiplier=spec.privacy.noise_multiplier,
                rng=rng,
            )
            params = private.params
            privacy_spent = _epsilon(spec, round_number)
        metrics = {"loss": float(fit["loss"]), "num_samples": float(len(split.train))}
        metrics.update(
            {f"train_{k}": v for k, v in models.evaluate(mspec, params, x, rows.labels).items()}
        )
        update_hash = parameters_hash(params)
        root = merkle_root(split.train)
        trained = time.perf_counter()
        entry = RoundLogEntry(
            study_id=spec.id,
            round=round_number,
            cohort_json=json.dumps(split.train),
            cohort_root=root,
            update_hash=update_hash,
            parameters=parameters_to_bytes(params),
            sample_count=len(split.train),
            privacy_spent=privacy_spent,
            metrics_json=json.dumps(metrics, sort_keys=True),
            consent_block_height=split.consent_block_height,
        )
        with transaction(self.sessions) as session:
            self.log.add(session, entry)
        done = self.studies.submit_update(
            UpdateInput(
                study_id=spec.id,
                round=round_number,
                update_hash=update_hash,
                sample_count=len(split.train),
                cohort_root=root,
                cohort_size=len(split.train),
                privacy_spent=privacy_spent,
                metrics={k: v for k, v in metrics.items() if np.isfinite(v)},
            )
        )
        with transaction(self.sessions) as session:
            stored = self.log.get(session, spec.id, round_number)
            assert stored is not None
            stored.tx_id, stored.block_number = done.tx_id, done.block_number
        finished = time.perf_counter()
        return TrainResult(
            round=round_number,
            parameters=params,
            sample_count=len(split.train),
            update_hash=update_hash,
            cohort_root=root,
            cohort_size=len(split.train),
            privacy_spent=privacy_spent,
            metrics=metrics,
            tx_id=done.tx_id,
            block_number=done.block_number,
            consent_block_height=split.consent_block_height,
            timings={
                "data": data_done - started,
                "training": trained - data_done,
                "ledger": finished - trained,
            },
        )

    def evaluate(self, spec_json: str, params: Parameters) -> EvaluationResult:
        """Metrics of `params` on this hospital's held-out, consented patients."""
        spec = self.verified(spec_json)
        split = self.split(spec)
        if not split.holdout:
            raise NoEligiblePatientsError(f"no held-out consented patient for {spec.id}")
        rows = self.cohort.rows(spec.features, split.holdout)
        x = standardised(spec, rows)
        metrics = models.evaluate(model_spec(spec, x.shape[1]), params, x, rows.labels)
        return EvaluationResult(len(split.holdout), {k: float(v) for k, v in metrics.items()})

    def round_log(self, study_id: str) -> list[RoundLogEntry]:
        with transaction(self.sessions) as session:
            return self.log.rounds(session, study_id)


def parse_spec(spec_json: str) -> StudySpec:
    try:
        return StudySpec.from_canonical(spec_json)
    except ValueError as exc:
        raise StudyMismatchError(f"invalid study spec: {exc}") from exc


def standardised(spec: StudySpec, rows: Rows) -> FloatArray:
    """Apply the study's agreed standardization, checking the columns line up."""
    scaling = spec.standardization
    if scaling is None or tuple(scaling.columns) != tuple(rows.columns):
        raise StudyMismatchError(f"standardization columns do not match {list(rows.columns)}")
    scaled: FloatArray = (rows.features - np.asarray(scaling.mean)) / np.asarray(scaling.scale)
    return scaled


def _org_number(msp_id: str) -> int:
    digits = "".join(ch for ch in msp_id if ch.isdigit())
    return int(digits) if digits else 0


def _epsilon(spec: StudySpec, rounds: int) -> float:
    from medchain.aggregator.accounting import epsilon_after

    return float(
        epsilon_after(
            rounds=rounds,
            noise_multiplier=spec.privacy.noise_multiplier,
            sampling_rate=1.0,
            delta=spec.privacy.delta,
        )
    )


def _result_from_log(entry: RoundLogEntry) -> TrainResult:
    params = parameters_from_bytes(entry.parameters)
    return TrainResult(
        round=entry.round,
        parameters=params,
        sample_count=entry.sample_count,
        update_hash=entry.update_hash,
        cohort_root=entry.cohort_root,
        cohort_size=len(entry.cohort),
        privacy_spent=entry.privacy_spent,
        metrics=entry.metrics,
        tx_id=entry.tx_id,
        block_number=entry.block_number,
        consent_block_height=entry.consent_block_height,
    )
