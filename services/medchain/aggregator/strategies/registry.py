"""Strategies by name, as a study definition names them."""

from __future__ import annotations

from typing import Any

from medchain.aggregator.strategies.base import Strategy
from medchain.aggregator.strategies.fedadam import FedAdam
from medchain.aggregator.strategies.fedavg import FedAvg
from medchain.aggregator.strategies.fedprox import FedProx
from medchain.aggregator.strategies.krum import Krum
from medchain.aggregator.strategies.median import Median
from medchain.aggregator.strategies.trimmed_mean import TrimmedMean

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (FedAvg, FedProx, Median, TrimmedMean, Krum, FedAdam)
}


def strategy_from_name(name: str, **options: Any) -> Strategy:
    """Build the named strategy with its options; ValueError for an unknown name or option."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known: {sorted(STRATEGIES)}") from None
    try:
        return cls(**options)
    except TypeError as exc:
        raise ValueError(f"bad options {sorted(options)} for strategy {name!r}: {exc}") from exc
