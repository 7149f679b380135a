"""Logistic and linear regression trained by exact mini-batch gradient descent in numpy.

Why not SGDClassifier/SGDRegressor with coef_init: their multiclass mode is one-vs-rest (not the
softmax these `coef` tensors mean), their step schedules and penalty scaling are their own, and the
FedProx term would have to be bolted on between partial_fit calls. Here every step takes the exact
gradient of mean loss + l2/2 ‖coef‖² + mu/2 ‖θ - θ_global‖² on the mini-batch, so FedProx acts
exactly and a test can check a step by hand.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from medchain.trainer.objective import (
    FloatArray,
    output_probabilities,
    penalty_gradients,
)


def linear_scores(coef: FloatArray, intercept: FloatArray, features: FloatArray) -> FloatArray:
    """Raw outputs features · coefᵀ + intercept, shape (n, outputs)."""
    scores: FloatArray = features @ coef.T + intercept
    return scores


def data_gradients(
    coef: FloatArray,
    intercept: FloatArray,
    features: FloatArray,
    target: FloatArray,
    *,
    classification: bool,
) -> tuple[FloatArray, FloatArray]:
    """Gradient of the mean data loss with respect to coef and intercept.

    For both the logistic (cross-entropy through sigmoid/softmax) and the linear (half squared
    error) models the gradient of the scores is (output - target) / n; `target` is one-hot for
    multiclass, the positive-class indicator for binary, and the value for regression, all (n, k).
    """
    scores = linear_scores(coef, intercept, features)
    if classification:
        probabilities = output_probabilities(scores)
        output = probabilities[:, 1:] if scores.shape[1] == 1 else probabilities
    else:
        output = scores
    grad_scores = (output - target) / features.shape[0]
    return grad_scores.T @ features, grad_scores.sum(axis=0)


def training_targets(label_index: npt.NDArray[np.intp], n_outputs: int) -> FloatArray:
    """(n, outputs) targets for classification: indicator of class 1, or one-hot."""
    if n_outputs == 1:
        indicator: FloatArray = (label_index == 1).astype(np.float64)[:, None]
        return indicator
    one_hot: FloatArray = np.eye(n_outputs, dtype=np.float64)[label_index]
    return one_hot


def train_linear(
    coef: FloatArray,
    intercept: FloatArray,
    features: FloatArray,
    target: FloatArray,
    *,
    classification: bool,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    l2: float,
    proximal_mu: float,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, int]:
    """Mini-batch SGD from (coef, intercept); the rows are reshuffled by `rng` every epoch."""
    global_tensors = [coef.copy(), intercept.copy()]
    coef, intercept = coef.copy(), intercept.copy()
    steps = 0
    for _ in range(epochs):
        order = rng.permutation(features.shape[0])
        for start in range(0, features.shape[0], batch_size):
            batch = order[start : start + batch_size]
            g_coef, g_intercept = data_gradients(
                coef, intercept, features[batch], target[batch], classification=classification
            )
            p_coef, p_intercept = penalty_gradients(
                [coef, intercept], global_tensors, [True, False], l2=l2, proximal_mu=proximal_mu
            )
            coef = coef - learning_rate * (g_coef + p_coef)
            intercept = intercept - learning_rate * (g_intercept + p_intercept)
            steps += 1
    return coef, intercept, steps
