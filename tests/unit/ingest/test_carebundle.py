"""Bundles from `carebundle`: every clean one is stored; every deliberately broken one is rejected
with an OperationOutcome that names each injected defect's entry, and nothing is stored."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from carebundle import PROFILES, Imperfection, generate_bundle, inject_defects, to_json
from carebundle.imperfection import DEFECT_KINDS

from medchain.ingest.errors import InvalidContentError
from medchain.ingest.service import IngestService


def _clean(profile: str, seed: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(to_json(generate_bundle(profile=profile, seed=seed)))
    return document


def _stored(service: IngestService) -> dict[str, int]:
    counts: dict[str, int] = service.stats()["resources"]
    return counts


def _expressions(exc: InvalidContentError) -> list[str]:
    return [issue.expression or "" for issue in exc.issues]


#: Each defect kind, with the fields it drops when it drops one. Dropping `status` breaks the base
#: spec and dropping `category` breaks the US Core profile each resource declares.
BROKEN = [
    pytest.param(Imperfection(**{kind: 1.0}), id=kind)  # type: ignore[arg-type]
    for kind in DEFECT_KINDS
    if kind != "missing_field"
] + [
    pytest.param(Imperfection(missing_field=1.0, droppable_fields=(f,)), id=f"missing_{f}")
    for f in ("status", "category")
]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_is_stored_and_feeds_features(
    sqlite_service: IngestService, profile: str
) -> None:
    bundle = _clean(profile, seed=11)

    response = sqlite_service.ingest_bundle(json.dumps(bundle).encode())

    assert [e["response"]["status"] for e in response["entry"]] == ["201 Created"] * len(
        bundle["entry"]
    )
    stats = sqlite_service.stats()
    assert stats["patients"] == 1
    assert sum(stats["resources"].values()) == len(bundle["entry"])
    assert stats["completeness"]["glucose"] == 1.0


def test_a_cohort_lands_on_both_databases(service: IngestService) -> None:
    for seed in range(3):
        service.ingest_bundle(json.dumps(_clean("type2_diabetes", seed)).encode())

    assert service.stats()["patients"] == 3
    assert len(service.cohort(service.settings.feature_spec())) == 3


@pytest.mark.parametrize("imperfection", BROKEN)
@pytest.mark.parametrize("seed", [3, 8])
def test_every_broken_bundle_is_rejected_naming_each_defect(
    sqlite_service: IngestService, imperfection: Imperfection, seed: int
) -> None:
    dirty, defects = inject_defects(_clean("ckd_stage3", seed), imperfection, seed=seed)
    assert defects

    with pytest.raises(InvalidContentError) as caught:
        sqlite_service.ingest_bundle(json.dumps(dirty).encode())

    expressions = _expressions(caught.value)
    for defect in defects:
        assert any(e.startswith(f"Bundle.entry[{defect.entry_index}]") for e in expressions), defect
    assert all(issue.diagnostics for issue in caught.value.issues)
    assert _stored(sqlite_service) == {}


def test_a_mixed_dirty_bundle_is_rejected_on_postgres_too(service: IngestService) -> None:
    mixed = Imperfection(
        missing_field=0.2,
        duplicate_entry=0.1,
        out_of_order_timestamp=0.2,
        unparseable_value=0.2,
        unknown_code_system=0.2,
        droppable_fields=("status", "category"),
    )
    dirty, defects = inject_defects(_clean("hypertension", 5), mixed, seed=5)
    assert len({d.kind for d in defects}) >= 3

    with pytest.raises(InvalidContentError) as caught:
        service.ingest_bundle(json.dumps(dirty).encode())

    flagged = {e.split("]")[0] + "]" for e in _expressions(caught.value)}
    assert {f"Bundle.entry[{d.entry_index}]" for d in defects} <= flagged
    assert _stored(service) == {}


def test_late_timestamps_are_caught_without_the_future_rule(sqlite_service: IngestService) -> None:
    """Once the shifted dates are in the past, the encounter end and `issued` still catch them."""
    sqlite_service.clock = lambda: datetime(2031, 1, 1)
    dirty, defects = inject_defects(
        _clean("anaemia", 2), Imperfection(out_of_order_timestamp=1.0), seed=2
    )

    with pytest.raises(InvalidContentError) as caught:
        sqlite_service.ingest_bundle(json.dumps(dirty).encode())

    assert {i.code.value for i in caught.value.issues} == {"invariant"}
    assert len({e.split("]")[0] for e in _expressions(caught.value)}) == len(defects)


@pytest.mark.parametrize("field", ["text", "encounter"])
def test_omissions_that_fhir_and_us_core_allow_are_accepted(
    sqlite_service: IngestService, field: str
) -> None:
    """Narrative and encounter links are optional in R4 and in US Core: such a bundle is valid."""
    dirty, defects = inject_defects(
        _clean("healthy", 4), Imperfection(missing_field=1.0, droppable_fields=(field,)), seed=4
    )
    assert defects

    sqlite_service.ingest_bundle(json.dumps(dirty).encode())

    assert sum(_stored(sqlite_service).values()) == len(dirty["entry"])
