"""One-hidden-layer perceptrons trained with scikit-learn from given weights, FedProx included.

scikit-learn builds an MLP's internal state (label binariser, output activation, optimiser) only on
its first partial_fit, and only from its own random initial weights. So the estimator is primed with
one partial_fit on the first mini-batch, then its weights are overwritten with the global ones: with
momentum 0 the plain SGD optimiser keeps no memory, so the primed step leaves no trace. Training
then calls partial_fit once per mini-batch (one SGD step each, with sklearn's batch_size set to the
batch's size) and, after each step, applies the gradient of l2/2 ‖w‖² + mu/2 ‖θ - θ_global‖² at
the new point. That split step is the usual proximal-gradient treatment of a penalty, so FedProx
really pulls the weights back; sklearn's own alpha stays 0 because it scales L2 per batch.
"""

from __future__ import annotations

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor

from medchain.trainer.objective import FloatArray, penalty_gradients
from medchain.trainer.spec import ModelSpec

MLP_TENSORS: tuple[str, ...] = ("w0", "b0", "w1", "b1")
_PENALISED = [True, False, True, False]


def _estimator(spec: ModelSpec) -> MLPClassifier | MLPRegressor:
    options = {
        "hidden_layer_sizes": (spec.hidden_units,),
        "activation": "relu",
        "solver": "sgd",
        "learning_rate": "constant",
        "learning_rate_init": spec.learning_rate,
        "momentum": 0.0,
        "nesterovs_momentum": False,
        "alpha": 0.0,
        "batch_size": spec.batch_size,
        "shuffle": False,
        "early_stopping": False,
        "n_iter_no_change": 2**31 - 1,
        "random_state": spec.seed,
    }
    if spec.is_classifier:
        return MLPClassifier(**options)
    return MLPRegressor(**options)


def mlp_scores(tensors: list[FloatArray], features: FloatArray) -> FloatArray:
    """Raw outputs of the network (before sigmoid/softmax), shape (n, outputs)."""
    w0, b0, w1, b1 = tensors
    hidden = np.maximum(features @ w0 + b0, 0.0)
    scores: FloatArray = hidden @ w1 + b1
    return scores


def train_mlp(
    spec: ModelSpec,
    tensors: list[FloatArray],
    features: FloatArray,
    targets: FloatArray,
    *,
    proximal_mu: float,
    rng: np.random.Generator,
) -> tuple[list[FloatArray], int]:
    """Local epochs of mini-batch SGD from `tensors` (w0, b0, w1, b1); returns them and steps."""
    estimator = _estimator(spec)
    first = rng.permutation(features.shape[0])[: spec.batch_size]
    estimator.set_params(batch_size=first.shape[0])
    if spec.is_classifier:
        estimator.partial_fit(features[first], targets[first], classes=np.asarray(spec.classes))
    else:
        estimator.partial_fit(features[first], targets[first])
    global_tensors = [t.copy() for t in tensors]
    estimator.coefs_ = [tensors[0].copy(), tensors[2].copy()]
    estimator.intercepts_ = [tensors[1].copy(), tensors[3].copy()]
    steps = 0
    for _ in range(spec.local_epochs):
        order = rng.permutation(features.shape[0])
        for start in range(0, features.shape[0], spec.batch_size):
            batch = order[start : start + spec.batch_size]
            estimator.set_params(batch_size=batch.shape[0])  # exactly one SGD step per call
            estimator.partial_fit(features[batch], targets[batch])
            current = [
                estimator.coefs_[0],
                estimator.intercepts_[0],
                estimator.coefs_[1],
                estimator.intercepts_[1],
            ]
            corrections = penalty_gradients(
                current, global_tensors, _PENALISED, l2=spec.l2, proximal_mu=proximal_mu
            )
            for tensor, correction in zip(current, corrections, strict=True):
                tensor -= spec.learning_rate * correction  # in place: these are sklearn's arrays
            steps += 1
    trained = [
        np.array(estimator.coefs_[0], dtype=np.float64),
        np.array(estimator.intercepts_[0], dtype=np.float64),
        np.array(estimator.coefs_[1], dtype=np.float64),
        np.array(estimator.intercepts_[1], dtype=np.float64),
    ]
    return trained, steps
