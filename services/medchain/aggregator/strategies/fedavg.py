"""FedAvg (McMahan et al., 2017): the sample-weighted mean of the clients' parameters."""

from __future__ import annotations

from collections.abc import Sequence

from medchain.aggregator.strategies.aggregate import weighted_average
from medchain.aggregator.strategies.base import ClientUpdate, Strategy, check_updates
from medchain.common.tensors import Parameters


def federated_average(updates: Sequence[ClientUpdate]) -> Parameters:
    """Mean of the updates' parameters weighted by their sample counts."""
    return weighted_average([u.params for u in updates], [float(u.num_samples) for u in updates])


class FedAvg(Strategy):
    """Replace the global model by the sample-weighted average of the updates."""

    name = "fedavg"

    def aggregate(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> Parameters:
        check_updates(global_params, updates)
        return federated_average(updates)
