"""Aggregation strategies, one module each behind the abstract Strategy, and a registry by name."""

from medchain.aggregator.strategies.base import ClientUpdate, Strategy
from medchain.aggregator.strategies.fedadam import AdamState, FedAdam
from medchain.aggregator.strategies.fedavg import FedAvg
from medchain.aggregator.strategies.fedprox import FedProx
from medchain.aggregator.strategies.krum import Krum
from medchain.aggregator.strategies.median import Median
from medchain.aggregator.strategies.registry import STRATEGIES, strategy_from_name
from medchain.aggregator.strategies.trimmed_mean import TrimmedMean

__all__ = [
    "STRATEGIES",
    "AdamState",
    "ClientUpdate",
    "FedAdam",
    "FedAvg",
    "FedProx",
    "Krum",
    "Median",
    "Strategy",
    "TrimmedMean",
    "strategy_from_name",
]
