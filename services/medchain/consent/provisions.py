"""Deny-overrides over a Consent's provision tree: one decision and one period per study or purpose.

A provision applies to the studies and purposes it names, or, naming none, to those of the
provision that encloses it; it is in force only inside its own period and its ancestors'. For each
study or purpose, a deny in force overrides every permit (deny-overrides). The ledger keeps one
decision and one interval per (patient, study), so a result that would change over time (a deny
covering only part of a permitted period, permits with a gap between them) is refused with an
issue rather than recorded wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from medchain.common.fhir import Issue, IssueType, error
from medchain.consent.periods import Validity

Decision = Literal["permit", "deny"]


@dataclass(frozen=True, slots=True)
class Provision:
    """One provision of a Consent, already validated; `path` locates it for issues."""

    decision: Decision
    targets: tuple[str, ...]
    validity: Validity
    path: str
    children: tuple[Provision, ...] = ()


@dataclass(frozen=True, slots=True)
class TargetDecision:
    """What a Consent decides for one study or purpose key."""

    study: str
    decision: Decision
    validity: Validity


@dataclass(frozen=True, slots=True)
class _Rule:
    decision: Decision
    validity: Validity
    path: str


def _collect(
    provision: Provision,
    targets: tuple[str, ...],
    validity: Validity,
    out: dict[str, list[_Rule]],
    issues: list[Issue],
) -> None:
    own_targets = provision.targets or targets
    in_force = validity.intersect(provision.validity)
    if in_force.empty:
        issues.append(
            error(
                IssueType.INVARIANT,
                "the provision's period lies outside the period of the provision enclosing it",
                f"{provision.path}.period",
            )
        )
        return
    for target in own_targets:
        out.setdefault(target, []).append(_Rule(provision.decision, in_force, provision.path))
    for child in provision.children:
        _collect(child, own_targets, in_force, out, issues)


def _permit_span(study: str, permits: list[_Rule], issues: list[Issue]) -> Validity | None:
    span = permits[0].validity
    for rule in permits[1:]:
        joined = span.joins(rule.validity)
        if joined is None:
            issues.append(
                error(
                    IssueType.NOT_SUPPORTED,
                    f"the permits for {study!r} leave a gap between their periods; the ledger "
                    "keeps one interval per study: post one Consent per period",
                    f"{rule.path}.period",
                )
            )
            return None
        span = joined
    return span


def decide(root: Provision) -> tuple[list[TargetDecision], list[Issue]]:
    """Every study or purpose the tree names, with its decision under deny-overrides, in the
    order first named; or the issues that keep the tree from being recorded."""
    rules: dict[str, list[_Rule]] = {}
    issues: list[Issue] = []
    _collect(root, (), Validity(), rules, issues)
    if not rules and not issues:
        issues.append(
            error(
                IssueType.REQUIRED,
                "the Consent names no study (extension workflow-researchStudy) and no purpose "
                "(provision.purpose)",
                root.path,
            )
        )
    decided: list[TargetDecision] = []
    for study, found in rules.items():
        permits = [r for r in found if r.decision == "permit"]
        denies = [r for r in found if r.decision == "deny"]
        if denies:
            for permit in permits:
                if not any(d.validity.covers(permit.validity) for d in denies):
                    issues.append(
                        error(
                            IssueType.NOT_SUPPORTED,
                            f"a deny for {study!r} covers only part of a permitted period; the "
                            "ledger keeps one interval per study: post one Consent per period",
                            f"{denies[0].path}.period",
                        )
                    )
            decided.append(TargetDecision(study, "deny", denies[0].validity))
            continue
        span = _permit_span(study, permits, issues)
        if span is not None:
            decided.append(TargetDecision(study, "permit", span))
    return decided, issues
