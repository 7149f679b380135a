"""The Trainer gRPC servicer: translates messages and maps domain errors to status codes, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from medchain.common.errors import (
    ConflictError,
    MedChainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from medchain.common.serde import tensor_set_from_proto, tensor_set_to_proto
from medchain.common.tensors import parameters_hash
from medchain.ledger import LedgerError
from medchain.trainer.errors import StudyMismatchError
from medchain.trainer.service import TrainerService
from medchain.v1 import trainer_pb2, trainer_pb2_grpc

T = TypeVar("T")
_CODES: tuple[tuple[type[MedChainError], grpc.StatusCode], ...] = (
    (ValidationError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (ConflictError, grpc.StatusCode.FAILED_PRECONDITION),
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
    (UnavailableError, grpc.StatusCode.UNAVAILABLE),
    (LedgerError, grpc.StatusCode.UNAVAILABLE),
)


def status_code(exc: MedChainError) -> grpc.StatusCode:
    """The gRPC status of a domain error (INTERNAL when unmapped)."""
    return next((code for kind, code in _CODES if isinstance(exc, kind)), grpc.StatusCode.INTERNAL)


def _answer(context: grpc.ServicerContext, call: Callable[[], T]) -> T:
    try:
        return call()
    except MedChainError as exc:
        context.abort(status_code(exc), exc.message)
        raise AssertionError("context.abort returned") from exc  # it always raises


class TrainerServicer(trainer_pb2_grpc.TrainerServicer):  # type: ignore[misc]
    """Thin: every method calls TrainerService."""

    def __init__(self, service: TrainerService) -> None:
        self.service = service

    def Join(self, request: Any, context: grpc.ServicerContext) -> Any:
        result = _answer(
            context, lambda: self.service.join(request.study.spec_json, request.after_tx_id)
        )
        return trainer_pb2.JoinReply(
            org=self.service.msp_id,
            eligible_patients=result.eligible_patients,
            tx_id=result.tx_id,
            block_number=result.block_number,
            already_joined=result.already_joined,
        )

    def FeatureStats(self, request: Any, context: grpc.ServicerContext) -> Any:
        stats = _answer(context, lambda: self.service.feature_stats(request.study.spec_json))
        return trainer_pb2.FeatureStatsReply(
            org=self.service.msp_id,
            columns=list(stats.columns),
            count=stats.moments.n,
            sum=stats.moments.sums.tolist(),
            sum_of_squares=stats.moments.sums_of_squares.tolist(),
            labels=list(stats.labels),
        )

    def Train(self, request: Any, context: grpc.ServicerContext) -> Any:
        params = tensor_set_from_proto(request.global_parameters)

        def train() -> Any:
            if request.global_model_hash and parameters_hash(params) != request.global_model_hash:
                raise StudyMismatchError("global parameters do not match global_model_hash")
            return self.service.train(
                request.study.spec_json, request.round, params, request.after_tx_id
            )

        result = _answer(context, train)
        return trainer_pb2.TrainReply(
            org=self.service.msp_id,
            round=result.round,
            parameters=tensor_set_to_proto(result.parameters),
            sample_count=result.sample_count,
            update_hash=result.update_hash,
            cohort_root=result.cohort_root,
            cohort_size=result.cohort_size,
            privacy_spent=result.privacy_spent,
            metrics=result.metrics,
            tx_id=result.tx_id,
            block_number=result.block_number,
            consent_block_height=result.consent_block_height,
            timings=trainer_pb2.Timings(**result.timings),
        )

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:
        params = tensor_set_from_proto(request.parameters)
        result = _answer(context, lambda: self.service.evaluate(request.study.spec_json, params))
        return trainer_pb2.EvaluateReply(
            org=self.service.msp_id, sample_count=result.sample_count, metrics=result.metrics
        )
