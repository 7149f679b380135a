"""`/fhir/Consent`: FHIR R4 Consent in, stored Consents out; errors as OperationOutcome."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from medchain.common.fhir import FHIR_JSON, FhirJSONResponse, IssueType, Severity, operation_outcome
from medchain.common.fhir import Issue as FhirIssue
from medchain.consent.api.consents import errors
from medchain.consent.api.deps import CallerDep, ServiceDep, read_body
from medchain.consent.api.models import status_url

router = APIRouter(prefix="/fhir", tags=["fhir"])

_CONSENT = {
    "type": "object",
    "required": ["resourceType", "status", "scope", "category", "patient", "provision"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Consent"]},
        "status": {"type": "string", "enum": ["active", "inactive", "rejected", "draft",
                                               "proposed", "entered-in-error"]},
    },
    "additionalProperties": True,
}  # fmt: skip


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    content = {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


@router.post(
    "/Consent",
    summary="Record a FHIR R4 Consent (one ledger change per study or purpose it decides)",
    response_class=FhirJSONResponse,
    status_code=201,
    openapi_extra=_body(_CONSENT),
    responses={
        201: {"description": "Committed: the Consent as stored (Location: /fhir/Consent/{id})"},
        202: {
            "description": "Stored and queued, not committed within the request deadline: an "
            "informational OperationOutcome; Location: /submissions/{id}"
        },
        **errors(400, 401, 403, 409, 413, 422),
    },
)
async def post_consent(
    request: Request, service: ServiceDep, caller: CallerDep
) -> FhirJSONResponse:
    body = await read_body(request, service)
    accepted = await run_in_threadpool(service.accept_fhir, body, caller.client)
    done = await service.wait_for_commit(
        accepted.submission_id, service.settings.commit_deadline_seconds
    )
    status = status_url(done.id)
    if not done.final:
        note = FhirIssue(
            Severity.INFORMATION,
            IssueType.INFORMATIONAL,
            f"stored; {len(done.changes)} change(s) are being recorded on the ledger: see {status}",
        )
        return FhirJSONResponse(
            operation_outcome([note]),
            status_code=202,
            headers={"Location": status, "Retry-After": "1"},
        )
    done.raise_for_rejections()
    document_id = accepted.document_ids[0]
    stored = await run_in_threadpool(service.fhir_document, document_id)
    return FhirJSONResponse(
        stored,
        status_code=201,
        headers={"Location": f"/fhir/Consent/{document_id}", "X-Submission": status},
    )


@router.get(
    "/Consent/{consent_id}",
    summary="Read a stored Consent",
    response_class=FhirJSONResponse,
    responses={200: {"description": "The Consent as stored"}, **errors(401, 403, 404)},
)
def read_consent(
    consent_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], service: ServiceDep
) -> FhirJSONResponse:
    return FhirJSONResponse(service.fhir_document(consent_id))
