"""`/import` routes: tabular exports mapped to FHIR by the CSV column grammar (docs/ingest.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile
from fastapi.concurrency import run_in_threadpool

from medchain.common.fhir import FHIR_JSON, FhirJSONResponse
from medchain.ingest.api.deps import ServiceDep
from medchain.ingest.csv_import import CsvMapping
from medchain.ingest.errors import PayloadTooLargeError

router = APIRouter(prefix="/import", tags=["import"])


@router.post(
    "/csv",
    summary="Import a CSV export: one row per patient and date (column grammar in docs/ingest.md)",
    response_class=FhirJSONResponse,
    responses={
        200: {"description": "transaction-response Bundle of the generated resources"},
        **{
            code: {"description": text, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}
            for code, text in (
                (400, "Not a UTF-8 CSV file"),
                (401, "Missing or invalid API key"),
                (403, "API key of another hospital"),
                (413, "File beyond the size limit"),
                (422, "Cells or columns that break the grammar; nothing was stored"),
            )
        },
    },
)
async def import_csv(
    file: UploadFile,
    identifier_system: Annotated[str, Form(min_length=1, max_length=512)],
    service: ServiceDep,
    delimiter: Annotated[str, Form(min_length=1, max_length=1)] = ",",
) -> FhirJSONResponse:
    limit = service.settings.max_body_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"file exceeds the limit of {limit} bytes")
    mapping = CsvMapping(identifier_system=identifier_system, delimiter=delimiter)
    return FhirJSONResponse(await run_in_threadpool(service.import_csv, data, mapping))
