"""The aggregator's logic: create studies (resolved from site statistics), run them round after
round in the background, resume from the ledger, and answer for their state. No transport code."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from medchain.aggregator.errors import (
    RoundFailedError,
    StudyBusyError,
    StudyDefinitionError,
    StudyNotFoundError,
)
from medchain.aggregator.model_store import ModelStore
from medchain.aggregator.rounds import call_all, run_round
from medchain.aggregator.store import AggregatorStore, StudyRecord
from medchain.aggregator.strategies.base import Strategy
from medchain.aggregator.strategies.fedadam import AdamState, FedAdam
from medchain.aggregator.strategies.registry import strategy_from_name
from medchain.aggregator.trainers import TrainerCallError, TrainerClient
from medchain.common.db import transaction
from medchain.common.logging import get_logger
from medchain.common.studies import Standardization, StudySpec
from medchain.ledger import ChaincodeNotFound, LedgerError, StudyInput, StudyLedger
from medchain.trainer import models
from medchain.trainer.service import model_spec
from medchain.trainer.standardization import Standardizer

log = get_logger(__name__)


@dataclass(frozen=True)
class StudyView:
    """A study as the API shows it: the agreed spec, the ledger's state and local status."""

    spec: StudySpec
    status: str
    error: str
    ledger: dict[str, Any] | None
    initial_model_hash: str
    created_tx_id: str


class AggregatorService:
    """Coordinates studies across the hospitals' trainers, every step endorsed on the ledger."""

    def __init__(
        self,
        ledger: StudyLedger,
        trainers: Mapping[str, TrainerClient],
        sessions: sessionmaker[Session],
        models_store: ModelStore,
        call_timeout: float = 120.0,
    ) -> None:
        self.ledger = ledger
        self.trainers = dict(trainers)
        self.sessions = sessions
        self.models = models_store
        self.call_timeout = call_timeout
        self.store = AggregatorStore()
        self._runs: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    # -- creating ----------------------------------------------------------------------------------

    def _clients(self, spec: StudySpec) -> list[TrainerClient]:
        absent = [p for p in spec.participants if p not in self.trainers]
        if absent:
            raise StudyDefinitionError(f"no trainer is configured for participants {absent}")
        return [self.trainers[p] for p in spec.participants]

    def resolve(self, spec: StudySpec) -> StudySpec:
        """Fill in classes and pooled standardization from every site's sums (never rows)."""
        stats, failures = call_all(
            self._clients(spec), lambda c: c.feature_stats(spec, self.call_timeout)
        )
        if failures:
            raise StudyDefinitionError(f"feature statistics failed: {failures}")
        columns = {s.columns for s in stats.values()}
        if len(columns) != 1:
            raise StudyDefinitionError(f"sites disagree on the feature columns: {columns}")
        scaler = Standardizer.from_moments([s.moments for s in stats.values()])
        standardization = Standardization(
            columns=columns.pop(),
            mean=tuple(float(v) for v in scaler.mean),
            scale=tuple(float(v) for v in scaler.scale),
        )
        classes: tuple[int, ...] = ()
        if spec.task != "regression":
            labels = sorted({int(v) for s in stats.values() for v in s.labels})
            if len(labels) < 2:
                raise StudyDefinitionError(f"a classification study needs 2+ labels, saw {labels}")
            classes = tuple(labels)
        return spec.model_copy(update={"classes": classes, "standardization": standardization})

    def create(self, requested: StudySpec) -> StudyView:
        """Resolve the spec, store the initial model, record the study on the ledger, join sites."""
        with transaction(self.sessions) as session:
            if self.store.study(session, requested.id) is not None:
                raise StudyBusyError(f"study {requested.id} already exists")
        try:
            self.ledger.get_study(requested.id)
            raise StudyBusyError(f"study {requested.id} already exists on the ledger")
        except ChaincodeNotFound:
            pass
        spec = self.resolve(requested)
        assert spec.standardization is not None
        mspec = model_spec(spec, len(spec.standardization.columns))
        initial = self.models.put(models.initial_parameters(mspec))
        created = self.ledger.create_study(
            StudyInput(
                id=spec.id,
                spec_hash=spec.spec_hash,
                participants=list(spec.participants),
                rounds=spec.rounds,
                min_participants=spec.min_participants,
                epsilon=spec.privacy.epsilon if spec.privacy.enabled else 0.0,
                delta=spec.privacy.delta,
                strategy=spec.strategy.name,
                initial_model_hash=initial,
            )
        )
        with transaction(self.sessions) as session:
            session.add(
                StudyRecord(
                    id=spec.id,
                    spec_json=spec.canonical().decode(),
                    spec_hash=spec.spec_hash,
                    initial_model_hash=initial,
                    status="created",
                    created_tx_id=created.tx_id,
                )
            )
        joined, failures = call_all(
            self._clients(spec), lambda c: c.join(spec, self.call_timeout, created.tx_id)
        )
        if failures:
            log.warning("study.join_failures", study=spec.id, failures=failures)
            self._set_status(spec.id, "created", f"join failed: {failures}")
        if len(joined) < spec.min_participants:
            raise StudyDefinitionError(
                f"only {len(joined)} hospitals joined, {spec.min_participants} needed: {failures}"
            )
        return self.view(spec.id)

    # -- running -----------------------------------------------------------------------------------

    def _strategy(self, record: StudyRecord, spec: StudySpec) -> Strategy:
        strategy = strategy_from_name(spec.strategy.name, **spec.strategy.typed_options())
        if isinstance(strategy, FedAdam) and record.strategy_state_json:
            strategy.state = AdamState.from_json(json.loads(record.strategy_state_json))
        return strategy

    def start(self, study_id: str) -> bool:
        """Run the study's remaining rounds in the background; False if it already runs."""
        self.spec(study_id)
        with self._lock:
            running = self._runs.get(study_id)
            if running is not None and running.is_alive():
                return False
            self._set_status(study_id, "running", "")
            thread = threading.Thread(
                target=self._run_safely, args=(study_id,), name=f"study-{study_id}", daemon=True
            )
            self._runs[study_id] = thread
            thread.start()
            return True

    def wait(self, study_id: str, timeout: float | None = None) -> None:
        thread = self._runs.get(study_id)
        if thread is not None:
            thread.join(timeout)

    def resume_running(self) -> list[str]:
        """After a restart: continue every study that was running, from the ledger's state."""
        with transaction(self.sessions) as session:
            ids = [s.id for s in self.store.studies(session) if s.status == "running"]
        for study_id in ids:
            self.start(study_id)
        return ids

    def _run_safely(self, study_id: str) -> None:
        try:
            self.run_remaining(study_id)
        except (RoundFailedError, LedgerError, TrainerCallError, StudyDefinitionError) as exc:
            log.error("study.failed", study=study_id, error=str(exc))
            self._set_status(study_id, "failed", str(exc))

    def run_remaining(self, study_id: str, max_rounds: int | None = None) -> None:
        """Run rounds until the ledger says the study is complete (resuming an open round);
        `max_rounds` stops earlier, as an operator pausing a study would."""
        spec = self.spec(study_id)
        done = 0
        while max_rounds is None or done < max_rounds:
            study = self.ledger.get_study(study_id)
            self._reconcile(spec, study.current_round)
            if study.status == "completed":
                self._set_status(study_id, "completed", "")
                return
            committed = study.current_round == 0 or (
                self.ledger.get_round(study_id, study.current_round).status == "committed"
            )
            number = study.current_round + 1 if committed else study.current_round
            with transaction(self.sessions) as session:
                record = self.store.study(session, study_id)
                assert record is not None
                strategy = self._strategy(record, spec)
            outcome = run_round(
                spec,
                number,
                ledger=self.ledger,
                clients=self._clients(spec),
                strategy=strategy,
                store=self.models,
                evaluation_timeout=self.call_timeout,
            )
            with transaction(self.sessions) as session:
                self.store.save_round(
                    session,
                    study_id,
                    number,
                    status="committed",
                    model_hash=outcome.model_hash,
                    parent_model_hash=outcome.parent_model_hash,
                    detail_json=json.dumps(outcome.detail(), sort_keys=True),
                    committed_tx_id=outcome.committed_tx_id,
                    committed_block=outcome.committed_block,
                )
                record = self.store.study(session, study_id)
                assert record is not None
                if isinstance(strategy, FedAdam) and strategy.state is not None:
                    record.strategy_state_json = json.dumps(strategy.state.to_json())
            done += 1
            log.info(
                "round.committed",
                study=study_id,
                round=number,
                model=outcome.model_hash,
                metrics=outcome.metrics,
            )

    def _reconcile(self, spec: StudySpec, current_round: int) -> None:
        """Record rounds the ledger committed but this aggregator did not (it died after commit)."""
        for number in range(1, current_round + 1):
            with transaction(self.sessions) as session:
                if self.store.round(session, spec.id, number) is not None:
                    continue
            ledger_round = self.ledger.get_round(spec.id, number)
            if ledger_round.status != "committed":
                continue
            with transaction(self.sessions) as session:
                self.store.save_round(
                    session,
                    spec.id,
                    number,
                    status="committed",
                    model_hash=ledger_round.model_hash,
                    parent_model_hash=ledger_round.parent_model_hash,
                    detail_json=json.dumps(
                        {
                            "included": ledger_round.included,
                            "metrics": ledger_round.metrics,
                            "privacy_spent": ledger_round.privacy_spent,
                            "recovered_from_ledger": True,
                        },
                        sort_keys=True,
                    ),
                    committed_tx_id=ledger_round.committed_tx_id,
                    committed_block=0,
                )

    # -- reading -----------------------------------------------------------------------------------

    def _set_status(self, study_id: str, status: str, error: str) -> None:
        with transaction(self.sessions) as session:
            record = self.store.study(session, study_id)
            if record is not None:
                record.status = status
                record.error = error

    def spec(self, study_id: str) -> StudySpec:
        with transaction(self.sessions) as session:
            record = self.store.study(session, study_id)
            if record is None:
                raise StudyNotFoundError(f"no study {study_id!r}")
            return StudySpec.from_canonical(record.spec_json)

    def view(self, study_id: str) -> StudyView:
        with transaction(self.sessions) as session:
            record = self.store.study(session, study_id)
            if record is None:
                raise StudyNotFoundError(f"no study {study_id!r}")
            spec = StudySpec.from_canonical(record.spec_json)
            status, error = record.status, record.error
            initial, created_tx = record.initial_model_hash, record.created_tx_id
        try:
            ledger = self.ledger.get_study(study_id).model_dump(mode="json")
        except LedgerError:
            ledger = None
        return StudyView(spec, status, error, ledger, initial, created_tx)

    def studies(self) -> list[str]:
        with transaction(self.sessions) as session:
            return [s.id for s in self.store.studies(session)]

    def rounds(self, study_id: str) -> list[dict[str, Any]]:
        self.spec(study_id)
        with transaction(self.sessions) as session:
            return [
                {
                    "round": r.round,
                    "status": r.status,
                    "model_hash": r.model_hash,
                    "parent_model_hash": r.parent_model_hash,
                    "tx_id": r.committed_tx_id,
                    "block": r.committed_block,
                    **r.detail,
                }
                for r in self.store.rounds(session, study_id)
            ]
