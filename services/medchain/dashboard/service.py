"""The dashboard's view models, built from the aggregator's service and the ledger. No transport.

Every figure shown comes from the aggregator's records (rounds, metrics, privacy spent) or from the
ledger (study state, lineage, endorsers, consent events); nothing is estimated or filled in. Where
a fact is unavailable (the ledger is unreachable, no local network) the view says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError

from medchain.aggregator.audit import audit_model
from medchain.aggregator.errors import ModelNotFoundError, StudyNotFoundError
from medchain.aggregator.service import AggregatorService, StudyView
from medchain.common.db import transaction
from medchain.common.errors import MedChainError
from medchain.common.studies import StudySpec
from medchain.dashboard.consent_counts import ConsentCounts, ConsentFollower
from medchain.dashboard.errors import HospitalNotFoundError
from medchain.dashboard.ledger_reads import LedgerReads
from medchain.dashboard.network_status import NetworkProbe
from medchain.ledger import ChaincodeNotFound, LedgerError
from medchain.network.fabric_network import NodeStatus

#: The chart's two panels: the first metric of each list that the study reports.
QUALITY_METRICS = ("accuracy", "r2")
LOSS_METRICS = ("log_loss", "rmse")
METRIC_LABELS = {
    "accuracy": "Accuracy",
    "r2": "R²",
    "log_loss": "Log loss",
    "rmse": "RMSE",
}
GLOBAL_SERIES = "global model"


@dataclass(frozen=True)
class StudyRow:
    """One line of the studies list."""

    id: str
    title: str
    status: str
    error: str
    task: str
    model: str
    strategy: str
    rounds_done: int
    rounds_total: int
    participants: tuple[str, ...]
    joined: tuple[str, ...] | None  # None: the ledger could not be read
    current_model_hash: str
    privacy_spent: float
    epsilon: float  # 0: no privacy budget


@dataclass(frozen=True)
class Series:
    """One line of a chart: a value per round (None where the source reported none)."""

    name: str
    values: list[float | None]


@dataclass(frozen=True)
class MetricChart:
    """One metric per round, for the global model and each hospital."""

    metric: str
    label: str
    rounds: list[int]
    series: list[Series]

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "label": self.label,
            "rounds": self.rounds,
            "series": [{"name": s.name, "values": s.values} for s in self.series],
        }


@dataclass(frozen=True)
class UpdateRow:
    """A hospital's update to a round as the ledger committed it."""

    org: str
    tx_id: str
    block: int
    sample_count: int
    cohort_size: int
    update_hash: str


@dataclass(frozen=True)
class RoundRow:
    """One committed round."""

    round: int
    status: str
    model_hash: str
    parent_model_hash: str
    tx_id: str
    block: int | None  # None: recovered from the ledger without its block number
    included: list[str]
    missing: dict[str, str]
    rejected: dict[str, str]
    updates: list[UpdateRow]
    endorsers: tuple[str, ...] | None  # None: the commit transaction could not be read
    metrics: dict[str, float]
    privacy_spent: float


@dataclass(frozen=True)
class ParticipantRow:
    """A hospital in a study: joined or not, and what it last contributed."""

    org: str
    joined: bool | None
    rounds_included: int
    last_sample_count: int | None
    last_cohort_size: int | None
    evaluation_samples: int | None


@dataclass(frozen=True)
class PrivacyView:
    """The differential-privacy budget and how much of it the committed rounds spent."""

    enabled: bool
    epsilon: float
    delta: float
    spent: float
    noise_multiplier: float
    clip_norm: float

    @property
    def percent(self) -> float:
        if not self.enabled or self.epsilon <= 0:
            return 0.0
        return min(100.0, 100.0 * self.spent / self.epsilon)


@dataclass(frozen=True)
class StudyPage:
    """Everything the study page shows."""

    study: StudyRow
    spec_hash: str
    created_tx_id: str
    initial_model_hash: str
    min_participants: int
    participants: list[ParticipantRow]
    privacy: PrivacyView
    charts: list[MetricChart]
    rounds: list[RoundRow]
    endorsement_policy: str
    live: bool


@dataclass(frozen=True)
class StudyProgress:
    """What the live stream watches: it changes when a round is committed or the status moves."""

    status: str
    rounds: int

    @property
    def token(self) -> str:
        return f"{self.status}:{self.rounds}"

    @property
    def finished(self) -> bool:
        return self.status in {"completed", "failed"}


@dataclass(frozen=True)
class LineageRow:
    """One committed round on the way to a model, as the ledger records it."""

    round: int
    model_hash: str
    parent_model_hash: str
    included: list[str]
    updates: dict[str, str]
    tx_id: str


@dataclass(frozen=True)
class AuditCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class AuditView:
    """The outcome of the Verify button."""

    model_hash: str
    ok: bool
    rounds: list[int]
    checks: list[AuditCheck]
    error: str = ""

    @property
    def failed_checks(self) -> list[AuditCheck]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class ModelPage:
    """A model: its lineage on the ledger and whether this aggregator stores it."""

    model_hash: str
    study_id: str
    stored: bool
    initial_model_hash: str
    lineage: list[LineageRow]
    ledger_error: str
    audit: AuditView | None = None


@dataclass(frozen=True)
class ConsentPage:
    """One hospital's consent counts over the ledger's blocks (counts only, no pseudonyms)."""

    org: str
    orgs: list[str]
    timeline: list[ConsentCounts]
    following: bool
    connected: bool
    error: str
    last_block: int | None

    @property
    def latest(self) -> ConsentCounts | None:
        return self.timeline[-1] if self.timeline else None

    def chart_json(self) -> dict[str, Any]:
        return {
            "blocks": [p.block for p in self.timeline],
            "series": [
                {"name": state, "values": [getattr(p, state) for p in self.timeline]}
                for state in ("permit", "deny", "revoked")
            ],
        }


@dataclass(frozen=True)
class ConsentSummary:
    org: str
    latest: ConsentCounts | None


@dataclass(frozen=True)
class NetworkPage:
    """Every node of the local Fabric network and the ledger height this aggregator sees."""

    available: bool
    reason: str
    healthy: bool
    nodes: list[NodeStatus] = field(default_factory=list)
    chaincode: dict[str, Any] | None = None
    ledger_height: int | None = None


def _finite(value: Any) -> float | None:
    if isinstance(value, int | float) and math.isfinite(float(value)):
        return float(value)
    return None


def pick_metric(candidates: tuple[str, ...], rounds: list[dict[str, Any]]) -> str | None:
    """The first candidate metric any round reports (globally or for a hospital)."""
    for name in candidates:
        for r in rounds:
            if name in r.get("metrics", {}) or any(
                name in m for m in r.get("evaluation", {}).values()
            ):
                return name
    return None


def metric_chart(metric: str, rounds: list[dict[str, Any]], orgs: list[str]) -> MetricChart:
    """One point per committed round for the global model and for each hospital's evaluation."""
    committed = [r for r in rounds if r.get("status") == "committed"]
    series = [Series(GLOBAL_SERIES, [_finite(r.get("metrics", {}).get(metric)) for r in committed])]
    for org in orgs:
        values = [_finite(r.get("evaluation", {}).get(org, {}).get(metric)) for r in committed]
        if any(v is not None for v in values):
            series.append(Series(org, values))
    return MetricChart(
        metric, METRIC_LABELS.get(metric, metric), [r["round"] for r in committed], series
    )


def endorsement_policy(msp_ids: list[str] | None) -> str:
    """The channel's endorsement policy (configtx.yaml: MAJORITY of the hospitals' Endorsement)."""
    if msp_ids:
        return f"MAJORITY of {', '.join(msp_ids)}"
    return "MAJORITY of the channel's hospital organisations"


class DashboardService:
    """Answers the dashboard's pages from the aggregator, the ledger and the local network."""

    def __init__(
        self,
        aggregator: AggregatorService,
        *,
        reads: LedgerReads | None = None,
        network: NetworkProbe | None = None,
    ) -> None:
        self.aggregator = aggregator
        self.reads = reads
        self.network = network
        self.consents = ConsentFollower(reads) if reads is not None else None

    def close(self) -> None:
        if self.consents is not None:
            self.consents.stop()

    # -- studies -----------------------------------------------------------------------------------

    def _row(self, study_id: str, rounds: list[dict[str, Any]]) -> tuple[StudyRow, StudyView]:
        view = self.aggregator.view(study_id)
        spec = view.spec
        ledger = view.ledger or {}
        committed = [r for r in rounds if r.get("status") == "committed"]
        spent = ledger.get("privacy_spent")
        if spent is None:
            spent = committed[-1].get("privacy_spent", 0.0) if committed else 0.0
        joined = ledger.get("joined")
        return (
            StudyRow(
                id=spec.id,
                title=spec.title,
                status=view.status,
                error=view.error,
                task=spec.task,
                model=spec.model.kind,
                strategy=spec.strategy.name,
                rounds_done=len(committed),
                rounds_total=spec.rounds,
                participants=spec.participants,
                joined=tuple(joined) if view.ledger is not None and joined is not None else None,
                current_model_hash=committed[-1]["model_hash"]
                if committed
                else view.initial_model_hash,
                privacy_spent=float(spent),
                epsilon=spec.privacy.epsilon if spec.privacy.enabled else 0.0,
            ),
            view,
        )

    def studies(self) -> list[StudyRow]:
        return [self._row(s, self.aggregator.rounds(s))[0] for s in self.aggregator.studies()]

    def progress(self, study_id: str) -> StudyProgress:
        """Status and committed rounds from the aggregator's database (no ledger call)."""
        agg = self.aggregator
        with transaction(agg.sessions) as session:
            record = agg.store.study(session, study_id)
            if record is None:
                raise StudyNotFoundError(f"no study {study_id!r}")
            committed = [r for r in agg.store.rounds(session, study_id) if r.status == "committed"]
            return StudyProgress(record.status, len(committed))

    def _endorsers(self, tx_id: str) -> tuple[str, ...] | None:
        if self.reads is None or not tx_id:
            return None
        try:
            return self.reads.endorsers(tx_id)
        except LedgerError:
            return None

    def _msp_ids(self) -> list[str] | None:
        return self.network.hospital_msp_ids() if self.network is not None else None

    def study(self, study_id: str) -> StudyPage:
        rounds = self.aggregator.rounds(study_id)
        row, view = self._row(study_id, rounds)
        spec = view.spec
        orgs = list(spec.participants)
        charts = [
            metric_chart(metric, rounds, orgs)
            for metric in (pick_metric(QUALITY_METRICS, rounds), pick_metric(LOSS_METRICS, rounds))
            if metric is not None
        ]
        table = [self._round_row(r) for r in rounds]
        participants = []
        for org in orgs:
            included = [r for r in rounds if org in r.get("included", [])]
            last = included[-1].get("updates", {}).get(org, {}) if included else {}
            evaluation = rounds[-1].get("evaluation", {}).get(org, {}) if rounds else {}
            samples = evaluation.get("num_samples")
            participants.append(
                ParticipantRow(
                    org=org,
                    joined=None if row.joined is None else org in row.joined,
                    rounds_included=len(included),
                    last_sample_count=last.get("sample_count"),
                    last_cohort_size=last.get("cohort_size"),
                    evaluation_samples=int(samples) if samples is not None else None,
                )
            )
        privacy = PrivacyView(
            enabled=spec.privacy.enabled,
            epsilon=spec.privacy.epsilon,
            delta=spec.privacy.delta,
            spent=row.privacy_spent,
            noise_multiplier=spec.privacy.noise_multiplier,
            clip_norm=spec.privacy.clip_norm,
        )
        return StudyPage(
            study=row,
            spec_hash=spec.spec_hash,
            created_tx_id=view.created_tx_id,
            initial_model_hash=view.initial_model_hash,
            min_participants=spec.min_participants,
            participants=participants,
            privacy=privacy,
            charts=charts,
            rounds=table,
            endorsement_policy=endorsement_policy(self._msp_ids()),
            live=row.status in {"running", "created"},
        )

    def _round_row(self, r: dict[str, Any]) -> RoundRow:
        updates = [
            UpdateRow(
                org=org,
                tx_id=str(u.get("tx_id", "")),
                block=int(u.get("block_number", 0)),
                sample_count=int(u.get("sample_count", 0)),
                cohort_size=int(u.get("cohort_size", 0)),
                update_hash=str(u.get("update_hash", "")),
            )
            for org, u in sorted(r.get("updates", {}).items())
        ]
        block = int(r.get("block", 0))
        return RoundRow(
            round=int(r["round"]),
            status=str(r["status"]),
            model_hash=str(r.get("model_hash", "")),
            parent_model_hash=str(r.get("parent_model_hash", "")),
            tx_id=str(r.get("tx_id", "")),
            block=block if block > 0 else None,
            included=list(r.get("included", [])),
            missing=dict(r.get("missing", {})),
            rejected=dict(r.get("rejected", {})),
            updates=updates,
            endorsers=self._endorsers(str(r.get("tx_id", ""))),
            metrics={k: v for k, v in r.get("metrics", {}).items() if _finite(v) is not None},
            privacy_spent=float(r.get("privacy_spent", 0.0)),
        )

    # -- models ------------------------------------------------------------------------------------

    def model(self, model_hash: str) -> ModelPage:
        stored = self.aggregator.models.has(model_hash)  # validates the hash's shape
        try:
            lineage = self.aggregator.ledger.model_lineage(model_hash)
        except ChaincodeNotFound:
            if not stored:
                raise ModelNotFoundError(f"no model {model_hash} here or on the ledger") from None
            return ModelPage(model_hash, "", stored, "", [], "no committed round produced it")
        except LedgerError as exc:
            return ModelPage(model_hash, "", stored, "", [], exc.message)
        try:
            initial = self.aggregator.ledger.get_study(lineage.study_id).initial_model_hash
        except LedgerError:
            initial = ""
        rows = [
            LineageRow(s.round, s.model_hash, s.parent_model_hash, s.included, s.updates, s.tx_id)
            for s in lineage.steps
        ]
        return ModelPage(model_hash, lineage.study_id, stored, initial, rows, "")

    def _spec_of(self, study_id: str) -> StudySpec | None:
        try:
            return self.aggregator.spec(study_id)
        except StudyNotFoundError:
            return None  # the audit then checks hashes without recomputing aggregations

    def verify(self, model_hash: str) -> AuditView:
        """Run the audit: lineage from the ledger, every artifact's hash, the aggregations."""
        page = self.model(model_hash)
        spec = self._spec_of(page.study_id) if page.study_id else None
        try:
            report = audit_model(model_hash, self.aggregator.ledger, self.aggregator.models, spec)
        except (MedChainError, DecodeError, ValueError) as exc:
            # An artifact so damaged it cannot even be parsed is a failed audit, not an outage.
            detail = exc.message if isinstance(exc, MedChainError) else str(exc)
            return AuditView(model_hash, False, [], [], f"the audit could not complete: {detail}")
        return AuditView(
            model_hash,
            report.ok,
            list(report.rounds),
            [AuditCheck(c.name, c.ok, c.detail) for c in report.checks],
        )

    # -- consent -----------------------------------------------------------------------------------

    def hospitals(self) -> list[str]:
        """Hospital MSP ids: the channel's, those with consent events, and study participants."""
        known = set(self._msp_ids() or [])
        if self.consents is not None:
            known.update(self.consents.tally.orgs())
        for study_id in self.aggregator.studies():
            known.update(self.aggregator.spec(study_id).participants)
        return sorted(known)

    def consent_summaries(self) -> list[ConsentSummary]:
        if self.consents is not None:
            self.consents.start()
        out = []
        for org in self.hospitals():
            timeline = self.consents.tally.timeline(org) if self.consents is not None else []
            out.append(ConsentSummary(org, timeline[-1] if timeline else None))
        return out

    def consent(self, org: str) -> ConsentPage:
        orgs = self.hospitals()
        if org not in orgs:
            raise HospitalNotFoundError(f"no hospital {org!r}; known: {', '.join(orgs)}")
        follower = self.consents
        if follower is None:
            return ConsentPage(
                org, orgs, [], False, False, "no ledger connection is configured", None
            )
        follower.start()
        return ConsentPage(
            org=org,
            orgs=orgs,
            timeline=follower.tally.timeline(org),
            following=follower.running,
            connected=follower.connected,
            error=follower.error,
            last_block=follower.tally.last_block,
        )

    # -- network -----------------------------------------------------------------------------------

    def network_page(self) -> NetworkPage:
        height: int | None = None
        if self.reads is not None:
            try:
                height = self.reads.height()
            except LedgerError:
                height = None
        if self.network is None:
            return NetworkPage(
                False,
                "no Fabric network was brought up under this aggregator's MEDCHAIN_HOME",
                False,
                ledger_height=height,
            )
        status = self.network.status()
        return NetworkPage(True, "", status.healthy, status.nodes, status.chaincode, height)
