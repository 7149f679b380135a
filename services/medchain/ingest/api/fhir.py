"""`/fhir` routes: Bundles, single resources, and reading back what was stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from medchain.common.fhir import FHIR_JSON, FhirJSONResponse
from medchain.ingest.api.deps import ServiceDep, read_limited_body

router = APIRouter(prefix="/fhir", tags=["fhir"])

_OUTCOME = {"type": "object", "description": "OperationOutcome naming entry index and FHIRPath"}
_RESOURCE = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string"}},
    "additionalProperties": True,
}
_BUNDLE = {
    "type": "object",
    "required": ["resourceType", "type"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["transaction", "batch", "collection"]},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    content = {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "Unparseable body (not JSON, not a FHIR resource)",
        401: "Missing or invalid API key",
        403: "API key of another hospital",
        404: "Not stored",
        409: "Identifier held by another resource, or a concurrent write",
        413: "Body or entry count beyond the limits",
        422: "Invalid content; nothing was stored",
    }
    return {
        code: {"description": text[code], "content": {FHIR_JSON: {"schema": _OUTCOME}}}
        for code in codes
    }


ResourceType = Annotated[str, Path(pattern=r"^[A-Z][A-Za-z]{1,63}$", examples=["Observation"])]
ResourceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]


@router.post(
    "",
    summary="Post a transaction, batch or collection Bundle",
    response_class=FhirJSONResponse,
    openapi_extra=_body(_BUNDLE),
    responses={
        200: {"description": "transaction-response or batch-response Bundle, in request order"},
        **_errors(400, 401, 403, 409, 413, 422),
    },
)
async def post_bundle(request: Request, service: ServiceDep) -> FhirJSONResponse:
    body = await read_limited_body(request, service.settings.max_body_bytes)
    result = await run_in_threadpool(service.ingest_bundle, body)
    return FhirJSONResponse(result)


@router.post(
    "/{resource_type}",
    summary="Post one resource (created, or updated when its id or an identifier is known)",
    response_class=FhirJSONResponse,
    status_code=201,
    openapi_extra=_body(_RESOURCE),
    responses={
        200: {"description": "Updated an existing resource"},
        201: {"description": "Created"},
        **_errors(400, 401, 403, 409, 413, 422),
    },
)
async def post_resource(
    resource_type: ResourceType, request: Request, service: ServiceDep
) -> FhirJSONResponse:
    body = await read_limited_body(request, service.settings.max_body_bytes)
    stored = await run_in_threadpool(service.create_resource, resource_type, body)
    return FhirJSONResponse(
        stored.resource,
        status_code=201 if stored.created else 200,
        headers={
            "Location": stored.location,
            "ETag": f'W/"{stored.resource["meta"]["versionId"]}"',
        },
    )


@router.get(
    "/{resource_type}/{resource_id}",
    summary="Read a stored resource",
    response_class=FhirJSONResponse,
    responses={200: {"description": "The resource as stored"}, **_errors(401, 403, 404)},
)
def read_resource(
    resource_type: ResourceType, resource_id: ResourceId, service: ServiceDep
) -> FhirJSONResponse:
    return FhirJSONResponse(service.read_resource(resource_type, resource_id))
