"""FedAdam (Reddi et al., 2021): Adam on the server, fed the pseudo-gradient global - average."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medchain.aggregator.strategies.aggregate import (
    adam_update,
    check_same_layout,
    flatten,
    unflatten_like,
)
from medchain.aggregator.strategies.base import ClientUpdate, Strategy, check_updates
from medchain.aggregator.strategies.fedavg import federated_average
from medchain.common.tensors import NamedTensor, Parameters


def _tensors_to_json(params: Parameters) -> list[dict[str, Any]]:
    return [
        {"name": t.name, "shape": list(t.shape), "values": t.values.ravel().tolist()}
        for t in params
    ]


def _tensors_from_json(items: Sequence[dict[str, Any]]) -> Parameters:
    return [
        NamedTensor.from_numpy(
            str(item["name"]),
            np.asarray(item["values"], dtype=np.float64).reshape(tuple(item["shape"])),
        )
        for item in items
    ]


@dataclass(frozen=True)
class AdamState:
    """The server optimiser's memory: steps taken and both moment estimates, shaped like the model.

    Serialised as plain JSON (floats written with Python's shortest round-trip repr, so a resumed
    aggregator continues bit for bit); never pickled.
    """

    step: int
    first_moment: Parameters
    second_moment: Parameters

    @classmethod
    def zeros_like(cls, params: Parameters) -> AdamState:
        zeros = [NamedTensor.from_numpy(t.name, np.zeros(t.shape)) for t in params]
        return cls(step=0, first_moment=zeros, second_moment=list(zeros))

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "first_moment": _tensors_to_json(self.first_moment),
            "second_moment": _tensors_to_json(self.second_moment),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AdamState:
        return cls(
            step=int(data["step"]),
            first_moment=_tensors_from_json(data["first_moment"]),
            second_moment=_tensors_from_json(data["second_moment"]),
        )


class FedAdam(Strategy):
    """x' = Adam step on x with gradient x - FedAvg(updates); the state survives restarts."""

    name = "fedadam"

    def __init__(
        self,
        eta: float = 0.1,
        beta1: float = 0.9,
        beta2: float = 0.99,
        tau: float = 1e-9,
        state: AdamState | None = None,
    ) -> None:
        if not (eta > 0 and 0 <= beta1 < 1 and 0 <= beta2 < 1 and tau > 0):
            raise ValueError("need eta > 0, 0 <= beta1, beta2 < 1 and tau > 0")
        if not all(math.isfinite(x) for x in (eta, beta1, beta2, tau)):
            raise ValueError("FedAdam options must be finite")
        self.eta, self.beta1, self.beta2, self.tau = eta, beta1, beta2, tau
        self.state = state

    def aggregate(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> Parameters:
        check_updates(global_params, updates)
        state = self.state or AdamState.zeros_like(global_params)
        check_same_layout(global_params, state.first_moment)
        check_same_layout(global_params, state.second_moment)
        current = flatten(global_params)
        pseudo_gradient = current - flatten(federated_average(updates))
        new, m, v = adam_update(
            current,
            pseudo_gradient,
            flatten(state.first_moment),
            flatten(state.second_moment),
            state.step + 1,
            eta=self.eta,
            beta1=self.beta1,
            beta2=self.beta2,
            tau=self.tau,
        )
        self.state = AdamState(
            step=state.step + 1,
            first_moment=unflatten_like(m, global_params),
            second_moment=unflatten_like(v, global_params),
        )
        return unflatten_like(new, global_params)
