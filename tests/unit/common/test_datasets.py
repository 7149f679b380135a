"""Packaged demo data and its non-IID split across hospitals."""

from __future__ import annotations

import numpy as np
import pytest

from medchain.common.datasets import (
    breast_cancer,
    diabetes,
    dirichlet_split,
    hospitals,
    lung,
    non_iid_split,
    quantile_bins,
    split_by_group,
    train_held_out_split,
)


def test_breast_cancer_shape_and_labels() -> None:
    data = breast_cancer()
    assert data.features.shape == (569, 30)
    assert data.task == "classification"
    assert data.classes == (0, 1)
    assert np.bincount(data.targets.astype(int)).tolist() == [212, 357]
    assert data.feature_names[0] == "mean radius"


def test_diabetes_is_in_raw_units() -> None:
    data = diabetes()
    assert data.features.shape == (442, 10)
    assert data.task == "regression"
    assert data.feature_names[:3] == ("age", "sex", "bmi")
    assert (data.features[:, 0].min(), data.features[:, 0].max()) == (19.0, 79.0)  # age, years
    assert (data.targets.min(), data.targets.max()) == (25.0, 346.0)


def test_lung_by_institution() -> None:
    data = lung()
    assert data.features.shape == (168, 6)
    assert data.groups is not None
    sites = split_by_group(data)
    assert len(sites) == 17
    assert len(sites[1]) == 27  # institution 1 is the largest
    assert sum(len(rows) for rows in sites.values()) == 168
    assert int(data.targets.sum()) == 104  # died within a year
    assert not np.isnan(data.features).any()


def test_split_by_group_needs_groups() -> None:
    with pytest.raises(ValueError, match="no natural sites"):
        split_by_group(breast_cancer())


def test_dirichlet_split_is_a_deterministic_partition() -> None:
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    parts = dirichlet_split(labels, 4, alpha=0.3, seed=5, min_size=5)
    again = dirichlet_split(labels, 4, alpha=0.3, seed=5, min_size=5)
    assert [p.tolist() for p in parts] == [p.tolist() for p in again]
    assert sorted(np.concatenate(parts).tolist()) == list(range(100))
    assert min(len(p) for p in parts) >= 5
    other = dirichlet_split(labels, 4, alpha=0.3, seed=6, min_size=5)
    assert [p.tolist() for p in other] != [p.tolist() for p in parts]


def test_small_alpha_skews_labels_more_than_large_alpha() -> None:
    data = breast_cancer()

    def spread(alpha: float) -> float:
        shares = [data.targets[p].mean() for p in non_iid_split(data, 3, alpha=alpha, seed=1)]
        return float(np.std(shares))

    assert spread(0.1) > spread(100.0)
    assert spread(100.0) < 0.05


def test_regression_split_uses_quantile_bins() -> None:
    assert quantile_bins(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 3).tolist() == [0, 0, 1, 1, 2, 2]
    data = diabetes()
    parts = non_iid_split(data, 3, alpha=0.2, seed=0)
    means = sorted(float(data.targets[p].mean()) for p in parts)
    assert means[-1] - means[0] > 40.0  # sites see different outcome ranges
    assert sorted(np.concatenate(parts).tolist()) == list(range(442))


def test_impossible_split_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot give"):
        dirichlet_split(np.zeros(10), 3, alpha=1.0, seed=0, min_size=5)


def test_held_out_split_is_stratified_and_disjoint() -> None:
    data = breast_cancer()
    rows = np.arange(100, dtype=np.int64)
    train, held = train_held_out_split(data, rows, held_out_fraction=0.2, seed=0)
    assert set(train.tolist()).isdisjoint(held.tolist())
    assert sorted([*train.tolist(), *held.tolist()]) == list(range(100))
    positives = int(data.targets[rows].sum())
    expected = int(np.ceil(0.2 * positives)) + int(np.ceil(0.2 * (100 - positives)))
    assert len(held) == expected


def test_hospitals_are_named_and_split() -> None:
    data = breast_cancer()
    sites = hospitals(data, non_iid_split(data, 3, alpha=0.5, seed=0), held_out_fraction=0.25)
    assert [h.name for h in sites] == ["h1", "h2", "h3"]
    assert sum(len(h.train) + len(h.held_out) for h in sites) == 569
    assert all(len(h.held_out) > 0 for h in sites)
    with pytest.raises(ValueError, match="names"):
        hospitals(data, [np.arange(10, dtype=np.int64)], names=["a", "b"])
