"""FHIR OperationOutcome building, R4B model validation as issues, and FHIR error responses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pydantic
from fastapi.responses import JSONResponse
from fhir.resources.R4B import get_fhir_model_class

FHIR_JSON = "application/fhir+json"


class Severity(StrEnum):
    """OperationOutcome.issue.severity (required binding `issue-severity`)."""

    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


class IssueType(StrEnum):
    """The subset of OperationOutcome.issue.code (binding `issue-type`) MedChain reports."""

    INVALID = "invalid"
    STRUCTURE = "structure"
    REQUIRED = "required"
    VALUE = "value"
    INVARIANT = "invariant"
    CODE_INVALID = "code-invalid"
    NOT_FOUND = "not-found"
    NOT_SUPPORTED = "not-supported"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    TOO_COSTLY = "too-costly"
    SECURITY = "security"
    LOGIN = "login"
    FORBIDDEN = "forbidden"
    PROCESSING = "processing"
    INFORMATIONAL = "informational"
    EXCEPTION = "exception"


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue; `expression` is a FHIRPath-like location such as
    `Bundle.entry[3].resource.status`."""

    severity: Severity
    code: IssueType
    diagnostics: str
    expression: str | None = None

    def as_fhir(self) -> dict[str, Any]:
        """The issue as FHIR JSON."""
        out: dict[str, Any] = {
            "severity": self.severity.value,
            "code": self.code.value,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            out["expression"] = [self.expression]
        return out


def error(code: IssueType, diagnostics: str, expression: str | None = None) -> Issue:
    """An issue of severity `error`, the common case."""
    return Issue(Severity.ERROR, code, diagnostics, expression)


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """An OperationOutcome resource; FHIR requires at least one issue, so an empty list gets an
    informational `all OK` issue."""
    rendered = [issue.as_fhir() for issue in issues]
    if not rendered:
        rendered = [Issue(Severity.INFORMATION, IssueType.INFORMATIONAL, "All OK").as_fhir()]
    return {"resourceType": "OperationOutcome", "issue": rendered}


class FhirJSONResponse(JSONResponse):
    """A JSON response with the FHIR media type."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fhir_error_response(
    status_code: int, issues: Sequence[Issue], headers: dict[str, str] | None = None
) -> FhirJSONResponse:
    """An error response whose body is an OperationOutcome."""
    return FhirJSONResponse(operation_outcome(issues), status_code=status_code, headers=headers)


def _location(base: str, loc: Iterable[int | str]) -> str:
    path = base
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def model_issues(resource: Mapping[str, Any], base: str) -> list[Issue]:
    """Issues from parsing with the `fhir.resources` R4B model of the resource's type, located
    by FHIRPath-like expressions rooted at `base` (e.g. `Bundle.entry[3].resource`)."""
    resource_type = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(resource_type))
    except ValueError:
        return [error(IssueType.NOT_SUPPORTED, f"unknown resourceType {resource_type!r}", base)]
    try:
        model.model_validate(resource)
    except pydantic.ValidationError as exc:
        return [
            error(IssueType.STRUCTURE, f"{resource_type}: {e['msg']}", _location(base, e["loc"]))
            for e in exc.errors(include_url=False)
        ]
    return []
