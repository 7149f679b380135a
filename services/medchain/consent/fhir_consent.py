"""FHIR R4 Consent in: the R4B model, the checks it skips, then one decision per study or purpose.

What the model does not check and MedChain needs: `status` from its required code list (only
`active` permits: any other status records deny), `scope` research or patient-privacy, a patient
identifier to pseudonymize, `policy` or `policyRule` (invariant ppc-1), a typed root provision,
periods that parse, purposes from v3 ActReason, and study ids the ledger accepts. Studies are named
by the core extension `workflow-researchStudy` (valueReference `ResearchStudy/<id>`) on the Consent
or on a provision; purposes by `provision.purpose` and recorded as `purpose:<code>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from medchain.common.fhir import Issue, IssueType, error, model_issues
from medchain.consent.errors import InvalidConsentError
from medchain.consent.periods import Validity
from medchain.consent.provisions import Provision, TargetDecision, decide

JSON = dict[str, Any]
SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
SCOPES = frozenset({"research", "patient-privacy"})
STATUSES = frozenset({"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"})
PURPOSE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
#: v3 ActReason purposes of use a MedChain consent may name (research first, then the others).
PURPOSES = frozenset(
    {
        "HRESCH", "CLINTRCH", "BIORCH", "DSRCH", "POARCH", "TRANSRCH", "PATRCH", "RSDID",
        "TREAT", "ETREAT", "HPAYMT", "HOPERAT", "PUBHLTH", "HMARKT", "PATRQT",
    }
)  # fmt: skip
RESEARCH_STUDY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/workflow-researchStudy"
PURPOSE_PREFIX = "purpose:"
STUDY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True, slots=True)
class PatientIdentifier:
    """A patient identifier `system|value`, the input of the pseudonym."""

    system: str
    value: str


@dataclass(frozen=True, slots=True)
class ParsedConsent:
    """A valid Consent: whose it is, its status, and its decision per study or purpose key."""

    patient: PatientIdentifier
    status: str
    decisions: tuple[TargetDecision, ...]


def purpose_key(code: str) -> str:
    """The ledger study key of a purpose of use."""
    return f"{PURPOSE_PREFIX}{code}"


def study_problem(study: str) -> str | None:
    """Why `study` cannot be a study id, or None."""
    if not STUDY_ID.match(study):
        return f"study id {study!r} must match {STUDY_ID.pattern}"
    if study.startswith(PURPOSE_PREFIX):
        return f"study ids starting with {PURPOSE_PREFIX!r} are reserved for purposes"
    return None


def _codings(concept: Any) -> list[JSON]:
    found = concept.get("coding") if isinstance(concept, dict) else None
    return [c for c in found or [] if isinstance(c, dict)]


def _studies(owner: JSON, path: str, issues: list[Issue]) -> list[str]:
    studies = []
    for i, ext in enumerate(owner.get("extension") or []):
        if ext.get("url") != RESEARCH_STUDY_EXTENSION:
            continue
        where = f"{path}.extension[{i}].valueReference"
        reference = (ext.get("valueReference") or {}).get("reference", "")
        kind, _, study = str(reference).partition("/")
        problem = study_problem(study) if kind == "ResearchStudy" else None
        if kind != "ResearchStudy" or problem:
            issues.append(
                error(IssueType.VALUE, problem or "must reference ResearchStudy/<id>", where)
            )
            continue
        studies.append(study)
    return studies


def _provision(node: JSON, path: str, extra: list[str], issues: list[Issue]) -> Provision | None:
    kind = node.get("type")
    if kind is None:
        issues.append(error(IssueType.REQUIRED, "a provision needs type permit or deny", path))
    elif kind not in ("permit", "deny"):
        issues.append(error(IssueType.CODE_INVALID, f"type {kind!r} is not permit or deny", path))
    validity = Validity()
    period = node.get("period")
    if isinstance(period, dict):
        try:
            validity = Validity.from_fhir(period.get("start"), period.get("end"))
        except ValueError as exc:
            issues.append(error(IssueType.VALUE, str(exc), f"{path}.period"))
    targets = [*extra, *_studies(node, path, issues)]
    for i, coding in enumerate(node.get("purpose") or []):
        if coding.get("system") != PURPOSE_SYSTEM or coding.get("code") not in PURPOSES:
            issues.append(
                error(
                    IssueType.CODE_INVALID,
                    f"purpose must be one of {sorted(PURPOSES)} from {PURPOSE_SYSTEM}",
                    f"{path}.purpose[{i}]",
                )
            )
            continue
        targets.append(purpose_key(str(coding["code"])))
    children = [
        _provision(child, f"{path}.provision[{i}]", [], issues)
        for i, child in enumerate(node.get("provision") or [])
    ]
    if kind not in ("permit", "deny") or any(c is None for c in children):
        return None
    return Provision(
        kind,
        tuple(dict.fromkeys(targets)),
        validity,
        path,
        tuple(c for c in children if c is not None),
    )


def _envelope_issues(document: JSON) -> tuple[PatientIdentifier | None, list[Issue]]:
    issues: list[Issue] = []
    status = document.get("status")
    if status not in STATUSES:
        issues.append(
            error(
                IssueType.CODE_INVALID,
                f"status must be one of {sorted(STATUSES)}",
                "Consent.status",
            )
        )
    scope = _codings(document.get("scope"))
    if not any(c.get("system") == SCOPE_SYSTEM and c.get("code") in SCOPES for c in scope):
        issues.append(
            error(
                IssueType.CODE_INVALID,
                f"scope must be research or patient-privacy from {SCOPE_SYSTEM}",
                "Consent.scope",
            )
        )
    if not document.get("policy") and not document.get("policyRule"):
        issues.append(
            error(IssueType.REQUIRED, "policy or policyRule is required (ppc-1)", "Consent")
        )
    patient = document.get("patient")
    identifier = patient.get("identifier") if isinstance(patient, dict) else None
    system = identifier.get("system") if isinstance(identifier, dict) else None
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if patient is None:
        issues.append(
            error(IssueType.REQUIRED, "the Consent must name its patient", "Consent.patient")
        )
        return None, issues
    if not system or not value:
        issues.append(
            error(
                IssueType.REQUIRED,
                "patient.identifier needs system and value (the identifier is pseudonymized)",
                "Consent.patient.identifier",
            )
        )
        return None, issues
    if "|" in system:
        issues.append(
            error(IssueType.VALUE, "identifier system must not contain '|'", "Consent.patient")
        )
        return None, issues
    return PatientIdentifier(str(system), str(value)), issues


def parse_consent(document: JSON) -> ParsedConsent:
    """Validate a Consent and decide it per study; InvalidConsentError lists every issue."""
    if document.get("resourceType") != "Consent":
        raise InvalidConsentError(
            f"expected a Consent, got {document.get('resourceType')!r}",
            [error(IssueType.INVALID, "resourceType must be Consent", "Consent.resourceType")],
        )
    issues = model_issues(document, "Consent")
    if issues:
        raise InvalidConsentError(f"{len(issues)} problem(s) in the Consent", issues)
    patient, issues = _envelope_issues(document)
    root_node = document.get("provision")
    root = None
    if not isinstance(root_node, dict):
        issues.append(error(IssueType.REQUIRED, "a Consent needs a provision", "Consent.provision"))
    else:
        studies = _studies(document, "Consent", issues)
        root = _provision(root_node, "Consent.provision", studies, issues)
    decisions: list[TargetDecision] = []
    if root is not None:
        decisions, more = decide(root)
        issues += more
    if issues or patient is None:
        raise InvalidConsentError(
            f"{len(issues)} problem(s) in the Consent; nothing recorded", issues
        )
    status = str(document["status"])
    if status != "active":  # only an active Consent permits anything
        decisions = [replace(d, decision="deny") for d in decisions]
    return ParsedConsent(patient, status, tuple(decisions))
