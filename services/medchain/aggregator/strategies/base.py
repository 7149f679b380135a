"""The abstract aggregation Strategy and the client update it consumes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from medchain.aggregator.strategies.aggregate import check_same_layout
from medchain.common.tensors import Parameters


@dataclass(frozen=True)
class ClientUpdate:
    """One hospital's locally trained parameters and how many samples produced them."""

    org: str
    params: Parameters
    num_samples: int

    def __post_init__(self) -> None:
        if not self.org:
            raise ValueError("an update needs the org that produced it")
        if self.num_samples <= 0:
            raise ValueError(f"update from {self.org} has num_samples={self.num_samples}")


def check_updates(global_params: Parameters, updates: Sequence[ClientUpdate]) -> None:
    """Refuse an empty round, two updates from one org, or a layout unlike the global model's."""
    if not updates:
        raise ValueError("a round needs at least one update")
    orgs = [u.org for u in updates]
    if len(set(orgs)) != len(orgs):
        raise ValueError(f"one update per org per round, got {sorted(orgs)}")
    for update in updates:
        check_same_layout(global_params, update.params)


class Strategy(ABC):
    """Turns the global parameters and one round's client updates into new global parameters."""

    name: ClassVar[str]

    def trainer_options(self) -> dict[str, float]:
        """Options every trainer needs for local training under this strategy (none by default)."""
        return {}

    @abstractmethod
    def aggregate(self, global_params: Parameters, updates: Sequence[ClientUpdate]) -> Parameters:
        """New global parameters; raises ValueError on an invalid round."""
