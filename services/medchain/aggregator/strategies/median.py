"""Coordinate-wise median (Yin et al., 2018): robust to a minority of arbitrary updates."""

from __future__ import annotations

from collections.abc import Sequence

from medchain.aggregator.strategies.aggregate import coordinate_median
from medchain.aggregator.strategies.base import ClientUpdate, Strategy, check_updates
from medchain.common.tensors import Parameters


class Median(Strategy):
    """Each coordinate of the new model is the median of that coordinate across updates.

    Sample counts are ignored on purpose: weighting would let one org claim a huge count.
    """

    name = "median"

    def aggregate(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> Parameters:
        check_updates(global_params, updates)
        return coordinate_median([u.params for u in updates])
