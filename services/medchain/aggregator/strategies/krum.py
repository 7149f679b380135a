"""Krum and Multi-Krum (Blanchard et al., 2017): keep the updates closest to their neighbours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medchain.aggregator.strategies.aggregate import flatten, krum_select, weighted_average
from medchain.aggregator.strategies.base import ClientUpdate, Strategy, check_updates
from medchain.common.tensors import Parameters


class Krum(Strategy):
    """Score each update on its distance to the n - f - 2 nearest others; keep the m best.

    m = 1 is Krum (the chosen update becomes the model); m > 1 is Multi-Krum, which takes the
    sample-weighted mean of the chosen updates, as Flower does. Distances are computed on the
    flattened updates (update - global), which equals distances between the parameters.
    """

    name = "krum"

    def __init__(self, num_byzantine: int, num_selected: int = 1) -> None:
        if num_byzantine < 0 or num_selected < 1:
            raise ValueError("need num_byzantine >= 0 and num_selected >= 1")
        self.num_byzantine = num_byzantine
        self.num_selected = num_selected

    def select(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> list[int]:
        """Indices of the updates Krum keeps, best first."""
        check_updates(global_params, updates)
        origin = flatten(global_params)
        deltas = np.stack([flatten(u.params) - origin for u in updates])
        return krum_select(deltas, self.num_byzantine, self.num_selected)

    def aggregate(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> Parameters:
        chosen = [updates[i] for i in self.select(global_params, updates)]
        return weighted_average([u.params for u in chosen], [float(u.num_samples) for u in chosen])
