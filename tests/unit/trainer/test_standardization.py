"""Federated standardisation: pooled site moments equal fitting on all rows."""

from __future__ import annotations

import numpy as np
import pytest

from medchain.trainer.standardization import FeatureMoments, Standardizer


def test_pooled_moments_equal_the_pooled_fit() -> None:
    rng = np.random.default_rng(0)
    sites = [rng.normal(5.0, 3.0, size=(n, 4)) for n in (10, 25, 7)]
    standardizer = Standardizer.from_moments([FeatureMoments.of(s) for s in sites])
    pooled = np.vstack(sites)
    np.testing.assert_allclose(standardizer.mean, pooled.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(standardizer.scale, pooled.std(axis=0), rtol=1e-10)
    scaled = standardizer.transform(pooled)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-10)


def test_moments_by_hand_and_constant_features() -> None:
    moments = FeatureMoments.of([[1.0, 4.0], [3.0, 4.0]])
    assert moments.n == 2
    assert moments.sums.tolist() == [4.0, 8.0]
    assert moments.sums_of_squares.tolist() == [10.0, 32.0]
    standardizer = Standardizer.from_moments([moments])
    assert standardizer.mean.tolist() == [2.0, 4.0]
    assert standardizer.scale.tolist() == [1.0, 1.0]  # second feature constant: scale 1
    assert standardizer.transform([[3.0, 4.0]]).tolist() == [[1.0, 0.0]]


def test_moments_round_trip_through_json() -> None:
    moments = FeatureMoments.of([[0.1, 0.2], [0.3, 0.7]])
    again = FeatureMoments.from_json(moments.to_json())
    assert again.n == moments.n
    assert again.sums.tobytes() == moments.sums.tobytes()
    assert again.sums_of_squares.tobytes() == moments.sums_of_squares.tobytes()


def test_refusals() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Standardizer.from_moments([])
    with pytest.raises(ValueError, match="disagree"):
        Standardizer.from_moments([FeatureMoments.of([[1.0]]), FeatureMoments.of([[1.0, 2.0]])])
    with pytest.raises(ValueError, match="no rows"):
        Standardizer.from_moments([FeatureMoments.of(np.zeros((0, 2)))])
    with pytest.raises(ValueError, match="features must be"):
        Standardizer.from_moments([FeatureMoments.of([[1.0, 2.0]])]).transform([[1.0]])
