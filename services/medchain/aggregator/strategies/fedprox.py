"""FedProx (Li et al., 2020): FedAvg on the server, proximal term mu/2 ‖w - w_global‖² locally."""

from __future__ import annotations

import math
from collections.abc import Sequence

from medchain.aggregator.strategies.base import ClientUpdate, Strategy, check_updates
from medchain.aggregator.strategies.fedavg import federated_average
from medchain.common.tensors import Parameters


class FedProx(Strategy):
    """Aggregates like FedAvg; carries proximal_mu to the trainers, which apply it."""

    name = "fedprox"

    def __init__(self, proximal_mu: float) -> None:
        if not (math.isfinite(proximal_mu) and proximal_mu >= 0.0):
            raise ValueError(f"proximal_mu must be finite and >= 0, got {proximal_mu}")
        self.proximal_mu = proximal_mu

    def trainer_options(self) -> dict[str, float]:
        return {"proximal_mu": self.proximal_mu}

    def aggregate(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> Parameters:
        check_updates(global_params, updates)
        return federated_average(updates)
