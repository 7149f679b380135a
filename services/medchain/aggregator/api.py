"""Routes of the aggregator's REST API: thin, every decision is in service.py or audit.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from medchain.aggregator.audit import audit_model
from medchain.aggregator.errors import StudyNotFoundError
from medchain.aggregator.service import AggregatorService, StudyView
from medchain.common.studies import StudySpec
from medchain.common.tensors import parameters_hash
from medchain.ledger import LedgerError


def get_service(request: Request) -> AggregatorService:
    service: AggregatorService = request.app.state.service
    return service


ServiceDep = Annotated[AggregatorService, Depends(get_service)]


def _public(view: StudyView) -> dict[str, Any]:
    return {
        "id": view.spec.id,
        "status": view.status,
        "error": view.error,
        "spec": view.spec.model_dump(mode="json"),
        "spec_hash": view.spec.spec_hash,
        "initial_model_hash": view.initial_model_hash,
        "created_tx_id": view.created_tx_id,
        "ledger": view.ledger,
    }


def router() -> APIRouter:
    routes = APIRouter()

    @routes.post("/studies", status_code=201, tags=["studies"], summary="Create a study")
    def create_study(spec: StudySpec, service: ServiceDep) -> dict[str, Any]:
        """Resolve the spec from the sites' statistics, record it on the ledger, join the sites."""
        return _public(service.create(spec))

    @routes.get("/studies", tags=["studies"], summary="List studies")
    def list_studies(service: ServiceDep) -> list[dict[str, Any]]:
        return [_public(service.view(study_id)) for study_id in service.studies()]

    @routes.get("/studies/{study_id}", tags=["studies"], summary="One study")
    def get_study(study_id: str, service: ServiceDep) -> dict[str, Any]:
        return _public(service.view(study_id))

    @routes.post("/studies/{study_id}/run", status_code=202, tags=["studies"])
    def run_study(study_id: str, service: ServiceDep) -> dict[str, Any]:
        """Run the remaining rounds in the background."""
        started = service.start(study_id)
        return {"id": study_id, "started": started, "status_url": f"/studies/{study_id}"}

    @routes.get("/studies/{study_id}/rounds", tags=["studies"], summary="Rounds of a study")
    def rounds(study_id: str, service: ServiceDep) -> list[dict[str, Any]]:
        return service.rounds(study_id)

    @routes.get("/models/{model_hash}", tags=["models"], summary="Download a model by hash")
    def model(model_hash: str, service: ServiceDep, request: Request) -> Response:
        """Serialized `medchain.v1.TensorSet` with Accept: application/x-protobuf, else JSON."""
        if "application/x-protobuf" in request.headers.get("accept", ""):
            return Response(service.models.raw(model_hash), media_type="application/x-protobuf")
        params = service.models.get(model_hash)
        return JSONResponse(
            {
                "hash": parameters_hash(params),
                "tensors": [
                    {"name": t.name, "shape": list(t.shape), "values": t.values.ravel().tolist()}
                    for t in params
                ],
            }
        )

    @routes.get("/audit/models/{model_hash}", tags=["audit"], summary="Verify a model's lineage")
    def audit(model_hash: str, service: ServiceDep) -> JSONResponse:
        """Rebuild the lineage from the ledger and recheck every hash (200 verified, 409 not)."""
        report = audit_model(
            model_hash, service.ledger, service.models, _spec_of(service, model_hash)
        )
        return JSONResponse(report.as_dict(), status_code=200 if report.ok else 409)

    return routes


def _spec_of(service: AggregatorService, model_hash: str) -> StudySpec | None:
    try:
        study_id = service.ledger.model_lineage(model_hash).study_id
        return service.spec(study_id)
    except (StudyNotFoundError, LedgerError):  # the audit then skips recomputation
        return None
