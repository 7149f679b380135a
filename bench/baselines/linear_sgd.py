"""MedChain's logistic regression, step for step, for the baseline frameworks' clients.

This file runs inside the Flower and NVIDIA FLARE virtualenvs, which cannot import MedChain. It
repeats medchain.trainer.linear / objective / models for a binary logistic regression: zeros
to start, constant-rate mini-batch SGD on the exact gradient of the mean cross-entropy (+ l2/2
‖coef‖²), rows reshuffled every epoch by numpy's PCG64 seeded with [study seed, round, hospital
number], and accuracy as the most probable class (ties to class 0). Same data, same seeds, same
bits.

Also: `load_study(dir)` reads the study written by bench/federated_round.py (config.json and one
.npz per hospital), and `write_result` writes what a baseline measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out


def probabilities(coef: np.ndarray, intercept: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(n, 2): P(class 0), P(class 1)."""
    positive = sigmoid((x @ coef.T + intercept)[:, 0])
    return np.column_stack([1.0 - positive, positive])


def initial(n_features: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((1, n_features)), np.zeros((1,))


def train(
    coef: np.ndarray,
    intercept: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    l2: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    target = (y == 1).astype(np.float64)[:, None]
    coef, intercept = coef.copy(), intercept.copy()
    for _ in range(epochs):
        order = rng.permutation(x.shape[0])
        for start in range(0, x.shape[0], batch_size):
            batch = order[start : start + batch_size]
            output = probabilities(coef, intercept, x[batch])[:, 1:]
            grad_scores = (output - target[batch]) / batch.shape[0]
            g_coef = grad_scores.T @ x[batch]
            g_intercept = grad_scores.sum(axis=0)
            coef = coef - learning_rate * (g_coef + (l2 * coef + 0.0 * coef))
            intercept = intercept - learning_rate * (g_intercept + np.zeros_like(intercept))
    return coef, intercept


def accuracy(coef: np.ndarray, intercept: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    predicted = np.argmax(probabilities(coef, intercept, x), axis=1)
    return float(np.mean(predicted == y.astype(np.int64)))


def site_rng(seed: int, round_number: int, org_number: int) -> np.random.Generator:
    """The generator MedChain's trainer uses for a hospital's round (rounds count from 1)."""
    return np.random.default_rng([seed, round_number, org_number])


def load_study(directory: Path) -> dict[str, Any]:
    """config.json plus every site's arrays under `sites[i]["data"]`."""
    config: dict[str, Any] = json.loads((directory / "config.json").read_text())
    for site in config["sites"]:
        with np.load(directory / site["file"]) as arrays:
            site["data"] = {k: arrays[k] for k in arrays.files}
    return config


def write_result(path: Path, result: dict[str, Any]) -> None:
    path.write_text(json.dumps(result, indent=2) + "\n")
