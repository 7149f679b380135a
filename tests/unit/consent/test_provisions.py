"""Deny-overrides over provision trees, and trees the ledger's one interval cannot hold."""

from __future__ import annotations

import datetime as dt

from medchain.consent.periods import Validity
from medchain.consent.provisions import Provision, TargetDecision, decide

UTC = dt.UTC
Y2024 = Validity(dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC))
H2 = Validity(dt.datetime(2024, 7, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC))
OPEN = Validity()


def node(
    decision: str,
    *targets: str,
    validity: Validity = OPEN,
    children: tuple[Provision, ...] = (),
    path: str = "P",
) -> Provision:
    return Provision(decision, targets, validity, path, children)  # type: ignore[arg-type]


def test_a_single_permit() -> None:
    decided, issues = decide(node("permit", "s1", validity=Y2024))
    assert issues == []
    assert decided == [TargetDecision("s1", "permit", Y2024)]


def test_a_nested_deny_overrides_the_permit_it_inherits_from() -> None:
    tree = node("permit", "s1", "s2", children=(node("deny", "s2"),))
    decided, issues = decide(tree)
    assert issues == []
    assert [(d.study, d.decision) for d in decided] == [("s1", "permit"), ("s2", "deny")]


def test_deny_overrides_at_any_depth() -> None:
    tree = node("permit", "s1", children=(node("permit", children=(node("deny"),)),))
    decided, _ = decide(tree)
    assert [(d.study, d.decision) for d in decided] == [("s1", "deny")]


def test_a_nested_permit_under_a_deny_is_an_exception_for_its_own_targets() -> None:
    tree = node("deny", "purpose:HRESCH", children=(node("permit", "s9", validity=Y2024),))
    decided, issues = decide(tree)
    assert issues == []
    assert decided == [
        TargetDecision("purpose:HRESCH", "deny", OPEN),
        TargetDecision("s9", "permit", Y2024),
    ]


def test_a_nested_provision_is_in_force_only_within_its_parent() -> None:
    tree = node("permit", "s1", validity=Y2024, children=(node("permit", "s2"),))
    decided, _ = decide(tree)
    assert decided[1] == TargetDecision("s2", "permit", Y2024)


def test_a_deny_covering_part_of_the_permit_cannot_be_recorded() -> None:
    tree = node("permit", "s1", validity=Y2024, children=(node("deny", validity=H2, path="P.c"),))
    _, issues = decide(tree)
    assert [(i.code.value, i.expression) for i in issues] == [("not-supported", "P.c.period")]


def test_permits_with_a_gap_cannot_be_recorded() -> None:
    later = Validity(dt.datetime(2026, 1, 1, tzinfo=UTC), None)
    tree = node(
        "deny",
        "other",
        children=(node("permit", "s1", validity=Y2024), node("permit", "s1", validity=later)),
    )
    _, issues = decide(tree)
    assert [i.code.value for i in issues] == ["not-supported"]


def test_touching_permits_join() -> None:
    later = Validity(dt.datetime(2025, 1, 1, tzinfo=UTC), None)
    tree = node(
        "deny",
        "other",
        children=(node("permit", "s1", validity=Y2024), node("permit", "s1", validity=later)),
    )
    decided, issues = decide(tree)
    assert issues == []
    assert decided[1] == TargetDecision("s1", "permit", Validity(Y2024.start, None))


def test_a_nested_period_outside_its_parent_is_an_error() -> None:
    outside = Validity(dt.datetime(2030, 1, 1, tzinfo=UTC), None)
    tree = node(
        "permit", "s1", validity=Y2024, children=(node("deny", validity=outside, path="Q"),)
    )
    _, issues = decide(tree)
    assert [(i.code.value, i.expression) for i in issues] == [("invariant", "Q.period")]


def test_nothing_named_is_an_error() -> None:
    _, issues = decide(node("permit"))
    assert [i.code.value for i in issues] == ["required"]
