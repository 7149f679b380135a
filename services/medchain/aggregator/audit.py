"""Independent verification of a model from the ledger alone: lineage, every hash, the aggregation.

Starting from a model hash, the ledger's lineage names each round back to the initial model. For
each round the auditor checks the stored model and every included update against the hashes the
consortium committed, that each round's parent is the previous round's model, and (for strategies
without server state) that aggregating the stored updates reproduces the model bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from medchain.aggregator.errors import ModelNotFoundError, TamperedArtifactError
from medchain.aggregator.strategies.base import ClientUpdate
from medchain.aggregator.strategies.registry import strategy_from_name
from medchain.common.studies import StudySpec
from medchain.common.tensors import Parameters, parameters_hash
from medchain.ledger import ChaincodeNotFound, StudyLedger


class Artifacts(Protocol):
    """Where the audited models and updates are read from (checked against their hashes)."""

    def get(self, digest: str) -> Parameters: ...

    def has(self, digest: str) -> bool: ...


#: Strategies whose result depends only on the round's inputs, so the audit can recompute it.
STATELESS = frozenset({"fedavg", "fedprox", "median", "trimmed_mean", "krum"})


@dataclass
class Check:
    """One verified (or failed) fact."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class AuditReport:
    """The outcome of auditing one model."""

    model_hash: str
    study_id: str = ""
    rounds: list[int] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def as_dict(self) -> dict[str, object]:
        return {
            "model_hash": self.model_hash,
            "study_id": self.study_id,
            "verified": self.ok,
            "rounds": self.rounds,
            "checks": [vars(c) for c in self.checks],
        }


def _load(store: Artifacts, digest: str) -> Parameters | None:
    """The artifact if it is present and intact, else None (its own check says why)."""
    try:
        return store.get(digest)
    except (ModelNotFoundError, TamperedArtifactError):
        return None


def _stored_hash_ok(report: AuditReport, store: Artifacts, digest: str, what: str) -> bool:
    try:
        store.get(digest)
    except ModelNotFoundError:
        return report.check(f"{what} stored", False, f"{digest} is not in the model store")
    except TamperedArtifactError as exc:
        return report.check(f"{what} intact", False, exc.message)
    return report.check(f"{what} intact", True, digest)


def audit_model(
    model_hash: str, ledger: StudyLedger, store: Artifacts, spec: StudySpec | None
) -> AuditReport:
    """Verify `model_hash` against the ledger; `spec` (if known) enables recomputation."""
    report = AuditReport(model_hash)
    try:
        lineage = ledger.model_lineage(model_hash)
    except ChaincodeNotFound:
        report.check("model on the ledger", False, f"no committed round produced {model_hash}")
        return report
    report.study_id = lineage.study_id
    study = ledger.get_study(lineage.study_id)
    report.check("model on the ledger", True, f"study {lineage.study_id}")
    if spec is not None:
        report.check(
            "study spec matches the ledger",
            spec.spec_hash == study.spec_hash,
            f"spec hash {spec.spec_hash}, ledger {study.spec_hash}",
        )
    steps = lineage.steps
    for index, step in enumerate(steps):
        report.rounds.append(step.round)
        prefix = f"round {step.round}"
        expected_parent = (
            steps[index + 1].model_hash if index + 1 < len(steps) else study.initial_model_hash
        )
        report.check(
            f"{prefix} parent is the previous model",
            step.parent_model_hash == expected_parent,
            f"parent {step.parent_model_hash}, expected {expected_parent}",
        )
        ledger_round = ledger.get_round(lineage.study_id, step.round)
        report.check(
            f"{prefix} committed with this model",
            ledger_round.status == "committed" and ledger_round.model_hash == step.model_hash,
            f"status {ledger_round.status}, model {ledger_round.model_hash}",
        )
        model_ok = _stored_hash_ok(report, store, step.model_hash, f"{prefix} model")
        updates_ok = True
        for org in step.included:
            digest = step.updates.get(org, "")
            updates_ok &= _stored_hash_ok(report, store, digest, f"{prefix} update of {org}")
        if spec is None or spec.strategy.name not in STATELESS:
            continue
        parent = _load(store, step.parent_model_hash)
        inputs = [
            (org, _load(store, step.updates.get(org, "")), ledger_round.updates[org].sample_count)
            for org in step.included
        ]
        if not (model_ok and updates_ok) or parent is None:
            report.check(f"{prefix} aggregation recomputed", False, "inputs missing or altered")
            continue
        strategy = strategy_from_name(spec.strategy.name, **spec.strategy.typed_options())
        recomputed = strategy.aggregate(
            parent,
            [
                ClientUpdate(org, params, count)
                for org, params, count in inputs
                if params is not None
            ],
        )
        digest = parameters_hash(recomputed)
        report.check(
            f"{prefix} aggregation recomputed",
            digest == step.model_hash,
            f"{spec.strategy.name} of the stored updates hashes to {digest}",
        )
    _stored_hash_ok(report, store, study.initial_model_hash, "initial model")
    return report
