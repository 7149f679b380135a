"""The local objective's penalties (L2 on weights, FedProx proximal term) and the data losses."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_EPS = 1e-15


def penalty_gradients(
    tensors: list[FloatArray],
    global_tensors: list[FloatArray],
    penalised: list[bool],
    *,
    l2: float,
    proximal_mu: float,
) -> list[FloatArray]:
    """Gradient of l2/2 Σ‖w‖² over penalised tensors + mu/2 Σ‖θ - θ_global‖² over all tensors."""
    return [
        (l2 * t if is_weight else np.zeros_like(t)) + proximal_mu * (t - g)
        for t, g, is_weight in zip(tensors, global_tensors, penalised, strict=True)
    ]


def sigmoid(z: FloatArray) -> FloatArray:
    """Logistic function, stable for large |z|."""
    out: FloatArray = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out


def softmax(z: FloatArray) -> FloatArray:
    """Row-wise softmax, shifted by the row maximum for stability."""
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    result: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def output_probabilities(scores: FloatArray) -> FloatArray:
    """Class probabilities from output scores: sigmoid for one output column, softmax for more."""
    if scores.shape[1] == 1:
        positive = sigmoid(scores[:, 0])
        return np.column_stack([1.0 - positive, positive])
    return softmax(scores)


def cross_entropy(probabilities: FloatArray, label_index: npt.NDArray[np.intp]) -> float:
    """Mean negative log-likelihood of the true classes."""
    picked = probabilities[np.arange(label_index.shape[0]), label_index]
    return float(-np.mean(np.log(np.clip(picked, _EPS, 1.0))))


def half_squared_error(predictions: FloatArray, targets: FloatArray) -> float:
    """Mean of (prediction - target)² / 2, the regression loss sklearn's MLP also minimises."""
    return float(0.5 * np.mean((predictions - targets) ** 2))
