"""Feature standardisation fitted on federated statistics: sites share sums, never rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _vector(values: npt.ArrayLike) -> FloatArray:
    array = np.array(values, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class FeatureMoments:
    """One site's row count and per-feature sum and sum of squares."""

    n: int
    sums: FloatArray
    sums_of_squares: FloatArray

    @classmethod
    def of(cls, features: npt.ArrayLike) -> FeatureMoments:
        """The moments of a site's feature matrix (n, d)."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be a matrix, got shape {x.shape}")
        return cls(x.shape[0], _vector(x.sum(axis=0)), _vector((x * x).sum(axis=0)))

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "sums": self.sums.tolist(),
            "sums_of_squares": self.sums_of_squares.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureMoments:
        return cls(int(data["n"]), _vector(data["sums"]), _vector(data["sums_of_squares"]))


@dataclass(frozen=True)
class Standardizer:
    """x -> (x - mean) / scale with the pooled mean and population standard deviation.

    A feature that is constant across all sites gets scale 1, so it maps to 0 instead of NaN.
    """

    mean: FloatArray
    scale: FloatArray

    @classmethod
    def from_moments(cls, moments: Sequence[FeatureMoments]) -> Standardizer:
        """Pool every site's moments: the same result as fitting on all rows together."""
        if not moments:
            raise ValueError("need at least one site's moments")
        width = moments[0].sums.shape
        if any(m.sums.shape != width or m.sums_of_squares.shape != width for m in moments):
            raise ValueError("sites disagree on the number of features")
        n = sum(m.n for m in moments)
        if n == 0:
            raise ValueError("no rows at any site")
        mean = sum((m.sums for m in moments), np.zeros(width)) / n
        second = sum((m.sums_of_squares for m in moments), np.zeros(width)) / n
        variance = np.maximum(second - mean * mean, 0.0)  # rounding can dip just below zero
        scale = np.sqrt(variance)
        scale[scale <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0
        return cls(_vector(mean), _vector(scale))

    def transform(self, features: npt.ArrayLike) -> FloatArray:
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"features must be (n, {self.mean.shape[0]}), got {x.shape}")
        scaled: FloatArray = (x - self.mean) / self.scale
        return scaled
