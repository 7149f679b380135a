"""Model quality on a hospital's data: classification and regression metrics, as plain floats."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

FloatArray = npt.NDArray[np.float64]
Metrics = dict[str, float]


def classification_metrics(
    labels: npt.NDArray[np.int64], probabilities: FloatArray, classes: Sequence[int]
) -> Metrics:
    """Accuracy and log loss always; AUC only when every class occurs in `labels`.

    Binary AUC scores the last class's probability; multiclass AUC is one-vs-rest, macro-averaged.
    """
    class_array = np.asarray(classes)
    predicted = class_array[np.argmax(probabilities, axis=1)]
    metrics: Metrics = {
        "num_samples": float(labels.shape[0]),
        "accuracy": float(accuracy_score(labels, predicted)),
        "log_loss": float(log_loss(labels, probabilities, labels=class_array)),
    }
    if set(np.unique(labels).tolist()) == set(class_array.tolist()):
        if class_array.shape[0] == 2:
            auc = roc_auc_score(labels == class_array[1], probabilities[:, 1])
        else:
            auc = roc_auc_score(labels, probabilities, multi_class="ovr", labels=class_array)
        metrics["auc"] = float(auc)
    return metrics


def regression_metrics(targets: FloatArray, predictions: FloatArray) -> Metrics:
    """RMSE and MAE always; R² only with two or more distinct targets (else it is undefined)."""
    metrics: Metrics = {
        "num_samples": float(targets.shape[0]),
        "rmse": math.sqrt(float(mean_squared_error(targets, predictions))),
        "mae": float(mean_absolute_error(targets, predictions)),
    }
    if np.unique(targets).shape[0] >= 2:
        metrics["r2"] = float(r2_score(targets, predictions))
    return metrics
