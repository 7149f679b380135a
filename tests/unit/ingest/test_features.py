"""The feature pivot: exact values on a worked example, and properties over random facts."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medchain.ingest.errors import FeatureSpecError
from medchain.ingest.features import (
    CodeRef,
    ConditionFlag,
    FeatureRow,
    FeatureSpec,
    LabelDefinition,
    ObservationFact,
    ObservationFeature,
    PatientFacts,
    age_in_years,
    batches,
    completeness,
    pivot,
)
from medchain.ingest.settings import default_feature_spec
from medchain.ingest.terminology import ICD10, SNOMED

REFERENCE = date(2026, 1, 1)
SPEC = FeatureSpec(
    observations=(ObservationFeature("glucose", "2345-7"), ObservationFeature("hba1c", "4548-4")),
    conditions=(ConditionFlag("t2d", (CodeRef(ICD10, "E11"), CodeRef(SNOMED, "44054006"))),),
    include_age=True,
    include_sex=True,
    label=LabelDefinition("diabetic", "hba1c", 6.5),
)


def _obs(loinc: str, value: float, when: datetime, rid: str = "r") -> ObservationFact:
    return ObservationFact(loinc, value, when, rid)


def test_worked_example() -> None:
    facts = PatientFacts(
        pseudonym="a" * 64,
        birth_date=date(1974, 12, 25),
        sex="male",
        observations=(
            _obs("2345-7", 100.0, datetime(2025, 3, 1), "g1"),
            _obs("2345-7", 130.0, datetime(2025, 9, 1), "g2"),
            _obs("2345-7", 999.0, datetime(2026, 2, 1), "g3"),  # after the reference date
            _obs("4548-4", 7.0, datetime(2025, 9, 1), "h1"),
        ),
        conditions=(CodeRef(ICD10, "E11.9"),),
    )

    (row,) = pivot([facts], SPEC, REFERENCE)

    assert SPEC.source_columns == ("glucose", "hba1c", "t2d", "age", "sex")
    assert SPEC.columns == ("glucose", "t2d", "age", "sex")  # the label's source is left out
    assert row.values == (130.0, 1.0, 51.0, 1.0)
    assert row.label == 1.0  # HbA1c 7.0 >= 6.5
    assert row.complete


def test_missing_values_are_nan_and_make_a_row_incomplete() -> None:
    facts = PatientFacts("b" * 64, None, "other", (), (CodeRef(SNOMED, "4405400"),))

    (row,) = pivot([facts], SPEC, REFERENCE)

    assert [math.isnan(row.values[i]) for i in (0, 2, 3)] == [True, True, True]
    assert row.values[1] == 0.0  # SNOMED codes match exactly, never by prefix
    assert math.isnan(row.label)
    assert not row.complete
    assert completeness([row], SPEC.columns)["t2d"] == 1.0
    assert completeness([row], SPEC.columns)["complete_rows"] == 0.0


@pytest.mark.parametrize(
    ("birth", "expected"),
    [(date(2000, 1, 1), 26.0), (date(2000, 1, 2), 25.0), (date(2026, 1, 2), math.nan)],
)
def test_age_counts_completed_years(birth: date, expected: float) -> None:
    age = age_in_years(birth, REFERENCE)
    assert (math.isnan(age) and math.isnan(expected)) or age == expected


def test_bad_specs_are_refused() -> None:
    unknown = FeatureSpec(
        (ObservationFeature("x", "0000-0"),), (), False, False, LabelDefinition("y", "x")
    )
    dangling = FeatureSpec(SPEC.observations, (), False, False, LabelDefinition("y", "nope"))
    clash = FeatureSpec(SPEC.observations, (), True, False, LabelDefinition("age", "hba1c"))
    for spec in (unknown, dangling, clash):
        with pytest.raises(FeatureSpecError):
            spec.check()
    default_feature_spec().check()


codes = st.sampled_from(["2345-7", "4548-4", "8480-6"])
times = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2027, 1, 1))
observations = st.lists(
    st.builds(
        _obs,
        codes,
        st.floats(-1e6, 1e6, allow_nan=False),
        times,
        st.text("abc", min_size=1, max_size=3),
    ),
    max_size=12,
)
patients = st.lists(
    st.builds(
        PatientFacts,
        pseudonym=st.text("0123456789abcdef", min_size=64, max_size=64),
        birth_date=st.none() | st.dates(date(1920, 1, 1), date(2026, 12, 31)),
        sex=st.sampled_from([None, "male", "female", "other", "unknown"]),
        observations=observations.map(tuple),
        conditions=st.lists(
            st.builds(
                CodeRef,
                st.sampled_from([ICD10, SNOMED]),
                st.sampled_from(["E11", "E11.9", "I10", "44054006"]),
            ),
            max_size=3,
        ).map(tuple),
    ),
    max_size=8,
    unique_by=lambda p: p.pseudonym,
)


def _comparable(rows: list[FeatureRow]) -> list[tuple[object, ...]]:
    """Rows as tuples in which NaN equals NaN."""
    return [
        tuple(
            "nan" if isinstance(v, float) and math.isnan(v) else v
            for v in (r.pseudonym, *r.values, r.label)
        )
        for r in rows
    ]


@given(patients, st.randoms(use_true_random=False))
def test_pivot_does_not_depend_on_input_order(
    facts: list[PatientFacts], rnd: random.Random
) -> None:
    shuffled = [
        PatientFacts(
            f.pseudonym,
            f.birth_date,
            f.sex,
            tuple(rnd.sample(f.observations, len(f.observations))),
            f.conditions,
        )
        for f in rnd.sample(facts, len(facts))
    ]

    expected = pivot(facts, SPEC, REFERENCE)

    assert _comparable(pivot(shuffled, SPEC, REFERENCE)) == _comparable(expected)
    assert [r.pseudonym for r in expected] == sorted(f.pseudonym for f in facts)


@given(patients)
def test_each_column_is_the_latest_value_up_to_the_reference_date(
    facts: list[PatientFacts],
) -> None:
    for f, row in zip(
        sorted(facts, key=lambda f: f.pseudonym), pivot(facts, SPEC, REFERENCE), strict=True
    ):
        values = dict(zip(SPEC.columns, row.values, strict=True))
        for feature in SPEC.observations:
            usable = [
                o
                for o in f.observations
                if o.loinc == feature.loinc and o.effective.date() <= REFERENCE
            ]
            # The label's source is not a feature column: it shows through the label.
            threshold = SPEC.label.threshold
            assert threshold is not None
            seen = values.get(feature.name, row.label)
            if not usable:
                assert math.isnan(seen)
            else:
                latest = max(usable, key=lambda o: (o.effective, o.resource_id))
                expected = (
                    latest.value if feature.name in values else float(latest.value >= threshold)
                )
                assert seen == expected
                assert all(o.effective <= latest.effective for o in usable)
        flag = any(
            (c.system == ICD10 and c.code.startswith("E11"))
            or (c.system, c.code) == (SNOMED, "44054006")
            for c in f.conditions
        )
        assert values["t2d"] == float(flag)


@given(patients, st.integers(1, 5))
def test_batches_keep_every_row_in_order(facts: list[PatientFacts], size: int) -> None:
    rows = pivot(facts, SPEC, REFERENCE)

    parts = list(batches(rows, SPEC, size))

    assert [p for b in parts for p in b.pseudonyms] == [r.pseudonym for r in rows]
    assert all(len(b.pseudonyms) <= size for b in parts)
    for b in parts:
        assert [t.name for t in b.features] == list(SPEC.columns)
        assert all(t.shape == (len(b.pseudonyms),) for t in (*b.features, b.label))
    completeness_ = completeness(rows, SPEC.columns)
    assert all(0.0 <= v <= 1.0 for v in completeness_.values())


def test_dates_far_from_reference_are_handled() -> None:
    old = PatientFacts(
        "c" * 64,
        date(1900, 1, 1),
        "female",
        (_obs("4548-4", 5.0, datetime(1990, 1, 1) + timedelta(days=1)),),
        (),
    )

    (row,) = pivot([old], SPEC, REFERENCE)

    values = dict(zip(SPEC.columns, row.values, strict=True))
    assert (row.label, values["sex"]) == (0.0, 0.0)  # HbA1c 5.0 taken, below the threshold
