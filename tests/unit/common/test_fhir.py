"""OperationOutcome building and FHIR error responses."""

from __future__ import annotations

import json

from fhir.resources.R4B.operationoutcome import OperationOutcome

from medchain.common.fhir import (
    FHIR_JSON,
    Issue,
    IssueType,
    Severity,
    error,
    fhir_error_response,
    operation_outcome,
)


def test_outcome_is_a_valid_r4b_operation_outcome() -> None:
    outcome = operation_outcome(
        [
            error(
                IssueType.CODE_INVALID,
                "status 'done' is not allowed",
                "Bundle.entry[2].resource.status",
            )
        ]
    )

    parsed = OperationOutcome.model_validate(outcome)

    assert parsed.issue[0].expression == ["Bundle.entry[2].resource.status"]
    assert parsed.issue[0].severity == "error"
    assert parsed.issue[0].code == "code-invalid"


def test_an_empty_outcome_still_has_one_issue() -> None:
    outcome = operation_outcome([])

    assert OperationOutcome.model_validate(outcome).issue[0].severity == "information"


def test_error_response_uses_the_fhir_media_type_and_status() -> None:
    issue = Issue(Severity.WARNING, IssueType.TOO_COSTLY, "too big")

    response = fhir_error_response(413, [issue], headers={"Retry-After": "1"})

    assert response.status_code == 413
    assert response.media_type == FHIR_JSON
    assert response.headers["retry-after"] == "1"
    body = json.loads(bytes(response.body))
    assert body["issue"] == [
        {"severity": "warning", "code": "too-costly", "diagnostics": "too big"}
    ]
