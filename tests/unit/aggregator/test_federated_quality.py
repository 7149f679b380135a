"""Ten in-process FedAvg rounds over three non-IID hospitals come close to training on pooled data.

No network: each round every hospital trains from the global parameters on its own rows, and FedAvg
combines the updates. The features are scaled with the federated Standardizer (sites share sums,
not rows). The references, trained on the same pooled training rows and scored on the same union
of held-out rows, are scikit-learn's LogisticRegression and LinearRegression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from medchain.aggregator.strategies import ClientUpdate, FedAvg
from medchain.common.datasets import Dataset, breast_cancer, diabetes, hospitals, non_iid_split
from medchain.common.tensors import Parameters
from medchain.trainer.metrics import Metrics
from medchain.trainer.models import evaluate, initial_parameters, train
from medchain.trainer.spec import ModelSpec
from medchain.trainer.standardization import FeatureMoments, Standardizer

ROUNDS = 10
SITES = 3


@dataclass(frozen=True)
class Federation:
    train_sets: list[tuple[np.ndarray, np.ndarray]]
    held_out_features: np.ndarray
    held_out_targets: np.ndarray


def _federation(data: Dataset, seed: int) -> Federation:
    parts = non_iid_split(data, SITES, alpha=0.5, seed=seed)
    sites = hospitals(data, parts, held_out_fraction=0.25, seed=seed)
    scaler = Standardizer.from_moments([FeatureMoments.of(s.train.features) for s in sites])
    return Federation(
        [(scaler.transform(s.train.features), s.train.targets) for s in sites],
        scaler.transform(np.vstack([s.held_out.features for s in sites])),
        np.concatenate([s.held_out.targets for s in sites]),
    )


def _federated_training(spec: ModelSpec, federation: Federation, seed: int) -> Parameters:
    strategy = FedAvg()
    global_params = initial_parameters(spec)
    for round_number in range(ROUNDS):
        updates = []
        for site, (x, y) in enumerate(federation.train_sets):
            rng = np.random.default_rng([seed, round_number, site])
            params, metrics = train(spec, global_params, x, y, rng=rng)
            updates.append(ClientUpdate(f"h{site + 1}", params, int(metrics["num_samples"])))
        global_params = strategy.aggregate(global_params, updates)
    return global_params


def _local_only(spec: ModelSpec, federation: Federation, seed: int) -> list[Metrics]:
    """Each hospital alone, with the same number of epochs the federation gave it."""
    alone = spec.model_copy(update={"local_epochs": spec.local_epochs * ROUNDS})
    results = []
    for site, (x, y) in enumerate(federation.train_sets):
        params, _ = train(alone, initial_parameters(alone), x, y, rng=np.random.default_rng(site))
        results.append(
            evaluate(alone, params, federation.held_out_features, federation.held_out_targets)
        )
    return results


def _pooled_rows(federation: Federation) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.vstack([x for x, _ in federation.train_sets]),
        np.concatenate([y for _, y in federation.train_sets]),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fedavg_logistic_regression_on_breast_cancer(seed: int) -> None:
    federation = _federation(breast_cancer(), seed)
    spec = ModelSpec(kind="logistic_regression", n_features=30, classes=(0, 1), learning_rate=0.1)
    model = _federated_training(spec, federation, seed)
    federated = evaluate(spec, model, federation.held_out_features, federation.held_out_targets)

    pooled = LogisticRegression().fit(*_pooled_rows(federation))
    pooled_accuracy = float(
        np.mean(pooled.predict(federation.held_out_features) == federation.held_out_targets)
    )
    local_accuracy = [m["accuracy"] for m in _local_only(spec, federation, seed)]

    assert federated["accuracy"] >= pooled_accuracy - 0.02
    assert federated["accuracy"] > float(np.mean(local_accuracy))
    assert federated["auc"] > 0.975


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fedavg_linear_regression_on_diabetes(seed: int) -> None:
    federation = _federation(diabetes(), seed)
    spec = ModelSpec(kind="linear_regression", n_features=10, learning_rate=0.05, local_epochs=2)
    model = _federated_training(spec, federation, seed)
    federated = evaluate(spec, model, federation.held_out_features, federation.held_out_targets)

    pooled = LinearRegression().fit(*_pooled_rows(federation))
    residuals = pooled.predict(federation.held_out_features) - federation.held_out_targets
    pooled_rmse = float(np.sqrt(np.mean(residuals**2)))

    assert federated["rmse"] <= 1.05 * pooled_rmse
