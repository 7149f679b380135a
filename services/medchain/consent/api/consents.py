"""`/consents` routes: compact batches, a patient's current consents and history, revocation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from medchain.common.fhir import FHIR_JSON
from medchain.consent.api.deps import CallerDep, ServiceDep, read_body
from medchain.consent.api.models import (
    ConsentPublic,
    HistoryEntryPublic,
    PatientConsentsPublic,
    PatientHistoryPublic,
    SubmissionPublic,
)
from medchain.consent.compact import ConsentBatchIn
from medchain.consent.service import Submission

router = APIRouter(prefix="/consents", tags=["consents"])

_ERRORS = {
    400: "Unparseable body",
    401: "Missing or invalid API key",
    403: "API key of another hospital, or the ledger refused the writer (PERMISSION_DENIED)",
    404: "No consent recorded for this patient (and study)",
    409: "The ledger refused the change (e.g. already revoked)",
    413: "Body or number of consents beyond the limits",
    422: "Invalid content; nothing was recorded",
    503: "The ledger cannot be reached (reads only: writes are accepted and queued)",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries of error responses: OperationOutcome bodies."""
    return {
        code: {
            "description": _ERRORS[code],
            "content": {FHIR_JSON: {"schema": {"type": "object", "title": "OperationOutcome"}}},
        }
        for code in codes
    }


ACCEPTED: dict[int | str, dict[str, Any]] = {
    201: {"description": "Every change committed within the request deadline"},
    202: {
        "description": "Stored and queued; not committed within the deadline. Follow the "
        "Location header (/submissions/{id}).",
        "model": SubmissionPublic,
    },
}
Patient = Annotated[
    str,
    Path(
        description="`system|value` of a patient identifier (URL-encoded), or the pseudonym",
        examples=["urn:oid:2.16.840.1.113883.19.5|12345"],
    ),
]


async def submission_response(service: ServiceDep, submission_id: str) -> JSONResponse:
    """Wait up to the commit deadline: 201 when committed, 202 with a status URL if still
    pending, the first rejection's error when the ledger refused a change."""
    done: Submission = await service.wait_for_commit(
        submission_id, service.settings.commit_deadline_seconds
    )
    body = SubmissionPublic.of(done)
    if not done.final:
        return JSONResponse(
            body.model_dump(mode="json", by_alias=True),
            status_code=202,
            headers={"Location": body.status_url, "Retry-After": "1"},
        )
    done.raise_for_rejections()
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=201)


@router.post(
    "",
    summary="Record a batch of consent decisions (compact JSON, up to 10,000)",
    status_code=201,
    response_model=SubmissionPublic,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ConsentBatchIn.model_json_schema()}},
        }
    },
    responses={**ACCEPTED, **errors(400, 401, 403, 409, 413, 422)},
)
async def post_consents(request: Request, service: ServiceDep, caller: CallerDep) -> JSONResponse:
    body = await read_body(request, service)
    accepted = await run_in_threadpool(service.accept_compact, body, caller.client)
    return await submission_response(service, accepted.submission_id)


@router.get(
    "/{patient:path}/history",
    summary="Every ledger write of the patient's consents, with proofs",
    response_model=PatientHistoryPublic,
    responses=errors(401, 403, 404, 422, 503),
)
def get_history(patient: Patient, service: ServiceDep) -> PatientHistoryPublic:
    pseudonym, steps = service.history(patient)
    return PatientHistoryPublic(
        patient=pseudonym, org=service.org, history=[HistoryEntryPublic.of(s) for s in steps]
    )


@router.get(
    "/{patient:path}",
    summary="The patient's current decision per study, from the ledger, with its proof",
    response_model=PatientConsentsPublic,
    responses=errors(401, 403, 404, 422, 503),
)
def get_consents(patient: Patient, service: ServiceDep) -> PatientConsentsPublic:
    pseudonym, current = service.current(patient)
    now = service.clock()
    return PatientConsentsPublic(
        patient=pseudonym,
        org=service.org,
        consents=[ConsentPublic.of(c, now) for c in current],
    )


@router.delete(
    "/{patient:path}",
    summary="Revoke the patient's consent for a study (or purpose:<code>)",
    status_code=201,
    response_model=SubmissionPublic,
    responses={**ACCEPTED, **errors(401, 403, 404, 409, 422)},
)
async def revoke(
    patient: Patient,
    study: Annotated[str, Query(min_length=1, max_length=137, examples=["diabetes-2026"])],
    service: ServiceDep,
    caller: CallerDep,
) -> JSONResponse:
    accepted = await run_in_threadpool(service.accept_revocation, patient, study, caller.client)
    return await submission_response(service, accepted.submission_id)
