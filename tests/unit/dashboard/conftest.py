"""A study world for dashboard unit tests: a real aggregator service (SQLite, model store, FedAvg
aggregations) over a fake study ledger that answers from the rounds it was told about."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from medchain.aggregator.app import build_http_app
from medchain.aggregator.model_store import ModelStore
from medchain.aggregator.service import AggregatorService
from medchain.aggregator.store import AggregatorStore, RoundRecord, StudyRecord
from medchain.aggregator.strategies.base import ClientUpdate
from medchain.aggregator.strategies.registry import strategy_from_name
from medchain.common.datasets import breast_cancer
from medchain.common.db import Base, make_engine, make_session_factory, transaction
from medchain.common.studies import ModelConfig, PrivacyConfig, StrategyConfig, StudySpec
from medchain.common.tensors import NamedTensor, Parameters
from medchain.dashboard.assets import VendorFiles
from medchain.dashboard.ledger_reads import EventStream
from medchain.dashboard.service import DashboardService
from medchain.dashboard.settings import DashboardSettings
from medchain.demo.tables import breast_cancer_coding
from medchain.ledger import (
    ChaincodeNotFound,
    Checkpoint,
    Coordinator,
    Lineage,
    LineageStep,
    Round,
    Study,
    StudyLedger,
    Update,
)
from medchain.ledger.events import ChaincodeEvent
from medchain.network.fabric_network import NetworkStatus, NodeStatus

ORGS = ("h1MSP", "h2MSP", "h3MSP")
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
STUDY_ID = "bc-dash"


def params(value: float) -> Parameters:
    return [
        NamedTensor.from_numpy("coef", np.full((1, 3), value)),
        NamedTensor.from_numpy("intercept", np.array([value / 2])),
    ]


def spec(study_id: str = STUDY_ID, rounds: int = 3, *, privacy: bool = False) -> StudySpec:
    coding = breast_cancer_coding(breast_cancer().feature_names)
    return StudySpec(
        id=study_id,
        title="Breast cancer, three hospitals",
        task="binary",
        features=coding.features(),
        model=ModelConfig(kind="logistic_regression"),
        strategy=StrategyConfig(name="fedavg"),
        rounds=rounds,
        participants=ORGS,
        min_participants=2,
        privacy=PrivacyConfig(enabled=True, noise_multiplier=1.0, epsilon=8.0)
        if privacy
        else PrivacyConfig(),
    )


class FakeStudyLedger:
    """The study contract's reads, answered from what the test recorded."""

    def __init__(self) -> None:
        self.studies: dict[str, Study] = {}
        self.rounds: dict[tuple[str, int], Round] = {}

    def get_study(self, study_id: str) -> Study:
        if study_id not in self.studies:
            raise ChaincodeNotFound(f"no study {study_id}", reason="not found")
        return self.studies[study_id]

    def list_studies(self) -> list[Study]:
        return [self.studies[k] for k in sorted(self.studies)]

    def get_round(self, study_id: str, number: int) -> Round:
        if (study_id, number) not in self.rounds:
            raise ChaincodeNotFound(f"no round {number}", reason="not found")
        return self.rounds[(study_id, number)]

    def model_lineage(self, model_hash: str) -> Lineage:
        for (study_id, _), found in sorted(self.rounds.items(), reverse=True):
            if found.model_hash == model_hash:
                steps = []
                number = found.round
                while number >= 1:
                    r = self.rounds[(study_id, number)]
                    steps.append(
                        LineageStep(
                            round=r.round,
                            model_hash=r.model_hash,
                            parent_model_hash=r.parent_model_hash,
                            included=r.included,
                            updates={o: u.update_hash for o, u in r.updates.items()},
                            tx_id=r.committed_tx_id,
                        )
                    )
                    number -= 1
                return Lineage(model_hash=model_hash, study_id=study_id, steps=steps)
        raise ChaincodeNotFound(f"no model {model_hash}", reason="not found")


class FakeReads:
    """Ledger reads: endorsers per transaction, a height, and a fixed list of events."""

    def __init__(self) -> None:
        self.endorsed: dict[str, tuple[str, ...]] = {}
        self.events_given: list[ChaincodeEvent] = []
        self.checkpoints: list[Checkpoint | None] = []
        self.chain_height = 42

    def events(self, checkpoint: Checkpoint | None) -> EventStream:
        self.checkpoints.append(checkpoint)
        start = [e for e in self.events_given if checkpoint is None or not checkpoint.covers(e)]
        return ListStream(start)

    def endorsers(self, tx_id: str) -> tuple[str, ...]:
        return self.endorsed.get(tx_id, ())

    def height(self) -> int:
        return self.chain_height


class ListStream:
    """An event stream over a list; it ends when the list does."""

    def __init__(self, events: list[ChaincodeEvent]) -> None:
        self._events = iter(events)
        self.checkpoint: Checkpoint | None = None

    def __iter__(self) -> Iterator[ChaincodeEvent]:
        for event in self._events:
            self.checkpoint = (
                self.checkpoint.after(event)
                if self.checkpoint is not None
                else Checkpoint(block_number=event.block_number, tx_ids=(event.tx_id,))
            )
            yield event

    def close(self) -> None:
        self._events = iter(())

    def __enter__(self) -> ListStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class FakeNetwork:
    def __init__(self) -> None:
        self.nodes = [
            NodeStatus("orderer0", "orderer", "orderer", "127.0.0.1:7000", 101, True),
            NodeStatus("peer0.h1", "peer", "h1", "127.0.0.1:7030", 102, True, 17),
            NodeStatus("peer0.h2", "peer", "h2", "127.0.0.1:7040", None, False),
        ]

    def status(self) -> NetworkStatus:
        return NetworkStatus(self.nodes, {"name": "medchain", "committed_version": "1.0"})

    def hospital_msp_ids(self) -> list[str]:
        return list(ORGS)


@dataclass
class World:
    service: AggregatorService
    ledger: FakeStudyLedger
    models: ModelStore
    reads: FakeReads
    network: FakeNetwork
    store: AggregatorStore = field(default_factory=AggregatorStore)

    def add_study(self, study: StudySpec, committed: int, status: str = "running") -> list[str]:
        """Record a study with `committed` FedAvg rounds; the model hashes, initial first."""
        initial = self.models.put(params(0.0))
        hashes = [initial]
        with transaction(self.service.sessions) as session:
            session.add(
                StudyRecord(
                    id=study.id,
                    spec_json=study.canonical().decode(),
                    spec_hash=study.spec_hash,
                    initial_model_hash=initial,
                    status=status,
                    created_tx_id="c" * 64,
                )
            )
        for number in range(1, committed + 1):
            self.commit_round(study, number, hashes)
        self._put_study(study, committed, hashes, status)
        return hashes

    def _put_study(self, study: StudySpec, committed: int, hashes: list[str], status: str) -> None:
        self.ledger.studies[study.id] = Study(
            id=study.id,
            spec_hash=study.spec_hash,
            participants=list(study.participants),
            rounds=study.rounds,
            min_participants=study.min_participants,
            epsilon=study.privacy.epsilon,
            delta=study.privacy.delta,
            strategy=study.strategy.name,
            initial_model_hash=hashes[0],
            coordinator=Coordinator(msp_id="h1MSP", id="x509::coordinator"),
            joined=list(study.participants),
            status="completed" if status == "completed" else "running",
            current_round=committed,
            current_model_hash=hashes[-1],
            privacy_spent=0.5 * committed if study.privacy.enabled else 0.0,
            tx_id="s" * 64,
            timestamp=T0,
        )

    def commit_round(self, study: StudySpec, number: int, hashes: list[str]) -> None:
        parent = hashes[-1]
        updates = {org: params(0.1 * number + 0.01 * i) for i, org in enumerate(ORGS)}
        counts = {org: 50 + 10 * i for i, org in enumerate(ORGS)}
        update_hashes = {org: self.models.put(p) for org, p in updates.items()}
        strategy = strategy_from_name("fedavg")
        model = strategy.aggregate(
            self.models.get(parent), [ClientUpdate(o, updates[o], counts[o]) for o in ORGS]
        )
        model_hash = self.models.put(model)
        hashes.append(model_hash)
        tx = f"{number:02d}" * 32
        accuracy = {org: 0.7 + 0.05 * number + 0.01 * i for i, org in enumerate(ORGS)}
        detail = {
            "included": list(ORGS),
            "missing": {},
            "rejected": {},
            "updates": {
                org: {
                    "update_hash": update_hashes[org],
                    "tx_id": f"u{number}{org}".ljust(64, "0"),
                    "block_number": 10 * number + i,
                    "sample_count": counts[org],
                    "cohort_root": "0" * 64,
                    "cohort_size": counts[org] + 5,
                    "privacy_spent": 0.0,
                    "metrics": {"loss": 0.5},
                }
                for i, org in enumerate(ORGS)
            },
            "evaluation": {
                org: {"accuracy": accuracy[org], "log_loss": 0.6 - 0.1 * number, "num_samples": 20}
                for org in ORGS
            },
            "evaluation_failures": {},
            "metrics": {"accuracy": 0.72 + 0.05 * number, "log_loss": 0.55 - 0.1 * number},
            "privacy_spent": 0.5 * number if study.privacy.enabled else 0.0,
            "opened_tx_id": "o" * 64,
            "timings": {},
        }
        with transaction(self.service.sessions) as session:
            self.store.save_round(
                session,
                study.id,
                number,
                status="committed",
                model_hash=model_hash,
                parent_model_hash=parent,
                detail_json=json.dumps(detail, sort_keys=True),
                committed_tx_id=tx,
                committed_block=10 * number + 5,
            )
        self.ledger.rounds[(study.id, number)] = Round(
            study_id=study.id,
            round=number,
            status="committed",
            opened_tx_id="o" * 64,
            opened_at=T0,
            updates={
                org: Update(
                    org=org,
                    update_hash=update_hashes[org],
                    sample_count=counts[org],
                    cohort_root="0" * 64,
                    cohort_size=counts[org] + 5,
                    privacy_spent=0.0,
                    metrics={},
                    tx_id=f"u{number}{org}".ljust(64, "0"),
                    timestamp=T0,
                )
                for org in ORGS
            },
            model_hash=model_hash,
            parent_model_hash=parent,
            included=list(ORGS),
            metrics=detail["metrics"],
            privacy_spent=float(detail["privacy_spent"]),  # type: ignore[arg-type]
            committed_tx_id=tx,
            committed_at=T0,
        )
        self.reads.endorsed[tx] = ("h1MSP", "h2MSP")

    def advance(self, study: StudySpec, hashes: list[str], status: str) -> None:
        """Commit the next round and set the aggregator's status (as a running study would)."""
        self.commit_round(study, len(hashes), hashes)
        with transaction(self.service.sessions) as session:
            record = self.store.study(session, study.id)
            assert record is not None
            record.status = status
        self._put_study(study, len(hashes) - 1, hashes, status)


@pytest.fixture
def world(tmp_path: Path) -> World:
    engine = make_engine(f"sqlite:///{tmp_path / 'agg.sqlite3'}")
    tables = [Base.metadata.tables[t.__tablename__] for t in (StudyRecord, RoundRecord)]
    Base.metadata.create_all(engine, tables=tables)
    ledger = FakeStudyLedger()
    models = ModelStore(tmp_path / "models")
    service = AggregatorService(
        cast(StudyLedger, ledger), {}, make_session_factory(engine), models, call_timeout=5
    )
    return World(service, ledger, models, FakeReads(), FakeNetwork())


@pytest.fixture
def dashboard(world: World) -> DashboardService:
    return DashboardService(world.service, reads=world.reads, network=world.network)


@pytest.fixture
def app(world: World, dashboard: DashboardService, tmp_path: Path) -> Iterator[FastAPI]:
    built = build_http_app(world.service, resume=False)
    built.state.dashboard = dashboard
    built.state.dashboard_settings = DashboardSettings(
        assets_dir=tmp_path / "assets", fetch_assets=False, poll_interval=0.05
    )
    built.state.dashboard_vendor = VendorFiles(tmp_path / "assets", fetch=False)
    yield built
    dashboard.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
