"""The aggregator's side of the Trainer gRPC API: one client per hospital, mutual TLS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import grpc

from medchain.common.serde import tensor_set_from_proto, tensor_set_to_proto
from medchain.common.studies import StudySpec
from medchain.common.tensors import Parameters, parameters_hash
from medchain.common.tls import TLSFiles, channel_credentials
from medchain.trainer.standardization import FeatureMoments
from medchain.v1 import trainer_pb2, trainer_pb2_grpc


class TrainerCallError(Exception):
    """A trainer call failed; `org` and the gRPC status say which and why."""

    def __init__(self, org: str, code: str, message: str) -> None:
        super().__init__(f"{org}: {code}: {message}")
        self.org, self.code, self.message = org, code, message


@dataclass(frozen=True)
class TrainedUpdate:
    """What a trainer returned for a round."""

    org: str
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
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteStats:
    org: str
    columns: tuple[str, ...]
    moments: FeatureMoments
    labels: tuple[float, ...]


@dataclass(frozen=True)
class SiteEvaluation:
    org: str
    sample_count: int
    metrics: dict[str, float]


class TrainerClient(Protocol):
    """What the aggregator needs from one hospital's trainer."""

    org: str

    def join(self, spec: StudySpec, timeout: float, after_tx_id: str = "") -> str: ...

    def feature_stats(self, spec: StudySpec, timeout: float) -> SiteStats: ...

    def train(
        self,
        spec: StudySpec,
        round_number: int,
        params: Parameters,
        timeout: float,
        after_tx_id: str = "",
    ) -> TrainedUpdate: ...

    def evaluate(self, spec: StudySpec, params: Parameters, timeout: float) -> SiteEvaluation: ...


def _study(spec: StudySpec) -> trainer_pb2.StudySpec:
    return trainer_pb2.StudySpec(study_id=spec.id, spec_json=spec.canonical().decode())


class GrpcTrainerClient:
    """A hospital's trainer over gRPC."""

    def __init__(self, org: str, address: str, tls: TLSFiles | None) -> None:
        self.org = org
        self.address = address
        channel = (
            grpc.secure_channel(address, channel_credentials(tls))
            if tls
            else grpc.insecure_channel(address)
        )
        self._stub = trainer_pb2_grpc.TrainerStub(channel)
        self._channel = channel

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: str, request: object, timeout: float) -> object:
        try:
            return getattr(self._stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code().name if hasattr(exc, "code") else "UNKNOWN"
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise TrainerCallError(self.org, code, details or "") from exc

    def join(self, spec: StudySpec, timeout: float, after_tx_id: str = "") -> str:
        request = trainer_pb2.JoinRequest(study=_study(spec), after_tx_id=after_tx_id)
        reply = self._call("Join", request, timeout)
        return str(reply.tx_id)  # type: ignore[attr-defined]

    def feature_stats(self, spec: StudySpec, timeout: float) -> SiteStats:
        request = trainer_pb2.FeatureStatsRequest(study=_study(spec))
        reply: trainer_pb2.FeatureStatsReply = self._call("FeatureStats", request, timeout)  # type: ignore[assignment]
        moments = FeatureMoments.from_json(
            {
                "n": reply.count,
                "sums": list(reply.sum),
                "sums_of_squares": list(reply.sum_of_squares),
            }
        )
        return SiteStats(self.org, tuple(reply.columns), moments, tuple(reply.labels))

    def train(
        self,
        spec: StudySpec,
        round_number: int,
        params: Parameters,
        timeout: float,
        after_tx_id: str = "",
    ) -> TrainedUpdate:
        request = trainer_pb2.TrainRequest(
            study=_study(spec),
            round=round_number,
            global_parameters=tensor_set_to_proto(params),
            global_model_hash=parameters_hash(params),
            after_tx_id=after_tx_id,
        )
        reply: trainer_pb2.TrainReply = self._call("Train", request, timeout)  # type: ignore[assignment]
        return TrainedUpdate(
            org=reply.org,
            round=reply.round,
            parameters=tensor_set_from_proto(reply.parameters),
            sample_count=reply.sample_count,
            update_hash=reply.update_hash,
            cohort_root=reply.cohort_root,
            cohort_size=reply.cohort_size,
            privacy_spent=reply.privacy_spent,
            metrics=dict(reply.metrics),
            tx_id=reply.tx_id,
            block_number=reply.block_number,
            timings={
                "data": reply.timings.data,
                "training": reply.timings.training,
                "ledger": reply.timings.ledger,
            },
        )

    def evaluate(self, spec: StudySpec, params: Parameters, timeout: float) -> SiteEvaluation:
        request = trainer_pb2.EvaluateRequest(
            study=_study(spec), parameters=tensor_set_to_proto(params)
        )
        reply: trainer_pb2.EvaluateReply = self._call("Evaluate", request, timeout)  # type: ignore[assignment]
        return SiteEvaluation(reply.org, reply.sample_count, dict(reply.metrics))
