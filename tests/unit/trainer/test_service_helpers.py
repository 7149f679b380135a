"""The trainer's pure helpers: the held-out split and the standardization check."""

from __future__ import annotations

import numpy as np
import pytest

from medchain.common.studies import Features, Label, ObservationColumn, Standardization, StudySpec
from medchain.trainer.datasource import Rows
from medchain.trainer.errors import StudyMismatchError
from medchain.trainer.service import is_holdout, model_spec, standardised


def spec(standardization: Standardization | None) -> StudySpec:
    return StudySpec(
        id="s1",
        features=Features(
            observations=(
                ObservationColumn(name="a", code="1-1"),
                ObservationColumn(name="b", code="2-2"),
            ),
            label=Label(name="label", source="a"),
        ),
        participants=("h1MSP",),
        classes=(0, 1),
        standardization=standardization,
    )


def test_holdout_split_is_deterministic_and_near_the_fraction() -> None:
    ids = [f"{i:064x}" for i in range(2000)]
    first = [is_holdout(3, p, 0.2) for p in ids]
    assert first == [is_holdout(3, p, 0.2) for p in ids]
    assert 0.17 < sum(first) / len(ids) < 0.23
    assert first != [is_holdout(4, p, 0.2) for p in ids]


def test_standardised_applies_the_agreed_scaling() -> None:
    s = spec(Standardization(columns=("b",), mean=(2.0,), scale=(4.0,)))
    rows = Rows(("p",), ("b",), np.array([[10.0]]), np.array([1.0]))
    assert standardised(s, rows).tolist() == [[2.0]]


def test_standardised_refuses_other_columns() -> None:
    s = spec(Standardization(columns=("b",), mean=(0.0,), scale=(1.0,)))
    rows = Rows(("p",), ("c",), np.array([[1.0]]), np.array([1.0]))
    with pytest.raises(StudyMismatchError):
        standardised(s, rows)


def test_model_spec_follows_the_study() -> None:
    m = model_spec(spec(None), 1)
    assert (m.kind, m.n_features, m.classes) == ("logistic_regression", 1, (0, 1))
