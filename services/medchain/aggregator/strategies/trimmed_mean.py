"""Coordinate-wise trimmed mean (Yin et al., 2018): drop a beta fraction at each end, average."""

from __future__ import annotations

from collections.abc import Sequence

from medchain.aggregator.strategies.aggregate import trimmed_count, trimmed_mean
from medchain.aggregator.strategies.base import ClientUpdate, Strategy, check_updates
from medchain.common.tensors import Parameters


class TrimmedMean(Strategy):
    """Per coordinate, the mean of the updates left after trimming floor(beta * n) at each end.

    Unweighted, like Median, so a forged sample count cannot buy influence.
    """

    name = "trimmed_mean"

    def __init__(self, beta: float = 0.1) -> None:
        trimmed_count(1, beta)  # validates beta in [0, 0.5)
        self.beta = beta

    def aggregate(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> Parameters:
        check_updates(global_params, updates)
        return trimmed_mean([u.params for u in updates], self.beta)
