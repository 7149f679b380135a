"""`/submissions`: where an accepted request (its changes, their transactions) stands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from medchain.consent.api.consents import errors
from medchain.consent.api.deps import ServiceDep
from medchain.consent.api.models import SubmissionPublic

router = APIRouter(prefix="/submissions", tags=["consents"])


@router.get(
    "/{submission_id}",
    summary="The state of every change of an accepted request",
    response_model=SubmissionPublic,
    responses=errors(401, 403, 404),
)
def get_submission(
    submission_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], service: ServiceDep
) -> SubmissionPublic:
    return SubmissionPublic.of(service.submission(submission_id))
