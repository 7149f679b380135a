"""Models as named float tensors: initial parameters, local training from the global ones, metrics.

Layouts (outputs k = 1 for regression and binary classification, else the number of classes):
logistic and linear regression: coef (k, n_features), intercept (k,);
MLP classifier and regressor: w0 (n_features, hidden), b0 (hidden,), w1 (hidden, k), b1 (k,).
Inputs are expected already standardised (see standardization.Standardizer).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from medchain.common.tensors import NamedTensor, Parameters
from medchain.trainer.linear import linear_scores, train_linear, training_targets
from medchain.trainer.metrics import Metrics, classification_metrics, regression_metrics
from medchain.trainer.mlp import MLP_TENSORS, mlp_scores, train_mlp
from medchain.trainer.objective import (
    FloatArray,
    cross_entropy,
    half_squared_error,
    output_probabilities,
)
from medchain.trainer.spec import ModelSpec

LINEAR_TENSORS: tuple[str, ...] = ("coef", "intercept")


def parameter_shapes(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of the model, in parameter order."""
    k = spec.n_outputs
    if spec.kind in ("logistic_regression", "linear_regression"):
        return {"coef": (k, spec.n_features), "intercept": (k,)}
    h = spec.hidden_units
    return {"w0": (spec.n_features, h), "b0": (h,), "w1": (h, k), "b1": (k,)}


def initial_parameters(spec: ModelSpec) -> Parameters:
    """Zeros for the (convex) linear models; Glorot-uniform weights and biases for the MLP.

    The MLP draws from numpy's PCG64 seeded with spec.seed, in w0, b0, w1, b1 order, with
    sklearn's bound sqrt(6 / (fan_in + fan_out)) per layer, so every site starts identically.
    """
    shapes = parameter_shapes(spec)
    if spec.kind in ("logistic_regression", "linear_regression"):
        return [NamedTensor.from_numpy(name, np.zeros(shape)) for name, shape in shapes.items()]
    rng = np.random.default_rng(spec.seed)
    out: Parameters = []
    for layer in ("0", "1"):
        fan_in, fan_out = shapes["w" + layer]
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        for name in ("w" + layer, "b" + layer):
            out.append(NamedTensor.from_numpy(name, rng.uniform(-bound, bound, shapes[name])))
    return out


def _tensors(spec: ModelSpec, params: Parameters) -> list[FloatArray]:
    shapes = parameter_shapes(spec)
    got = [(t.name, t.shape) for t in params]
    if got != list(shapes.items()):
        raise ValueError(f"parameters {got} do not fit {spec.kind}: {list(shapes.items())}")
    return [t.to_numpy() for t in params]


def _features(spec: ModelSpec, features: npt.ArrayLike) -> FloatArray:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != spec.n_features:
        raise ValueError(f"features must be (n, {spec.n_features}), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("features contain NaN or infinity")
    return array


def label_indices(spec: ModelSpec, labels: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Position of each label in spec.classes; ValueError for a label the study did not declare."""
    array = np.asarray(labels)
    classes = np.asarray(spec.classes)
    index = np.searchsorted(classes, array)
    known = (index < classes.shape[0]) & (classes[np.minimum(index, classes.shape[0] - 1)] == array)
    if not np.all(known):
        raise ValueError(f"labels {sorted(set(array[~known].tolist()))} not in {spec.classes}")
    return index.astype(np.intp)


def scores(spec: ModelSpec, params: Parameters, features: npt.ArrayLike) -> FloatArray:
    """Raw model outputs, shape (n, outputs)."""
    tensors, x = _tensors(spec, params), _features(spec, features)
    if spec.kind in ("logistic_regression", "linear_regression"):
        return linear_scores(tensors[0], tensors[1], x)
    return mlp_scores(tensors, x)


def predict_proba(spec: ModelSpec, params: Parameters, features: npt.ArrayLike) -> FloatArray:
    """Class probabilities, one column per spec.classes entry."""
    if not spec.is_classifier:
        raise ValueError(f"{spec.kind} predicts values, not probabilities")
    return output_probabilities(scores(spec, params, features))


def predict(spec: ModelSpec, params: Parameters, features: npt.ArrayLike) -> FloatArray:
    """Most probable class for classifiers, the predicted value for regressors."""
    if spec.is_classifier:
        probabilities = predict_proba(spec, params, features)
        labels: FloatArray = np.asarray(spec.classes, dtype=np.float64)[
            np.argmax(probabilities, axis=1)
        ]
        return labels
    return scores(spec, params, features)[:, 0]


def _data_loss(spec: ModelSpec, params: Parameters, x: FloatArray, targets: npt.ArrayLike) -> float:
    if spec.is_classifier:
        return cross_entropy(predict_proba(spec, params, x), label_indices(spec, targets))
    return half_squared_error(predict(spec, params, x), np.asarray(targets, dtype=np.float64))


def train(
    spec: ModelSpec,
    params: Parameters,
    features: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    proximal_mu: float = 0.0,
    rng: np.random.Generator,
) -> tuple[Parameters, Metrics]:
    """spec.local_epochs of mini-batch SGD from `params` on one hospital's rows.

    Returns the new parameters and {"num_samples", "steps", "loss"} where loss is the mean data
    loss (cross-entropy or half squared error, penalties excluded) after training. The same spec,
    parameters, data and generator state always give the same bits.
    """
    if proximal_mu < 0:
        raise ValueError(f"proximal_mu must be >= 0, got {proximal_mu}")
    tensors, x = _tensors(spec, params), _features(spec, features)
    if x.shape[0] == 0:
        raise ValueError("cannot train on zero rows")
    y = np.asarray(targets)
    if y.shape != (x.shape[0],):
        raise ValueError(f"targets must be ({x.shape[0]},), got {y.shape}")
    if spec.kind in ("logistic_regression", "linear_regression"):
        if spec.is_classifier:
            target = training_targets(label_indices(spec, y), spec.n_outputs)
        else:
            target = y.astype(np.float64)[:, None]
        coef, intercept, steps = train_linear(
            tensors[0],
            tensors[1],
            x,
            target,
            classification=spec.is_classifier,
            learning_rate=spec.learning_rate,
            epochs=spec.local_epochs,
            batch_size=spec.batch_size,
            l2=spec.l2,
            proximal_mu=proximal_mu,
            rng=rng,
        )
        trained, names = [coef, intercept], LINEAR_TENSORS
    else:
        if spec.is_classifier:
            label_indices(spec, y)  # refuse undeclared labels before sklearn sees them
        trained, steps = train_mlp(
            spec, tensors, x, y.astype(np.float64), proximal_mu=proximal_mu, rng=rng
        )
        names = MLP_TENSORS
    new_params = [NamedTensor.from_numpy(n, t) for n, t in zip(names, trained, strict=True)]
    loss = _data_loss(spec, new_params, x, y)
    return new_params, {"num_samples": float(x.shape[0]), "steps": float(steps), "loss": loss}


def evaluate(
    spec: ModelSpec, params: Parameters, features: npt.ArrayLike, targets: npt.ArrayLike
) -> Metrics:
    """Accuracy, log loss, AUC (where defined) for classifiers; RMSE, MAE, R² for regressors."""
    if spec.is_classifier:
        labels = np.asarray(targets).astype(np.int64)
        label_indices(spec, labels)
        return classification_metrics(labels, predict_proba(spec, params, features), spec.classes)
    return regression_metrics(
        np.asarray(targets, dtype=np.float64), predict(spec, params, features)
    )
