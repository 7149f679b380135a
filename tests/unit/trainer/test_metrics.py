"""Evaluation metrics on hand-made predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medchain.common.tensors import NamedTensor
from medchain.trainer.metrics import classification_metrics, regression_metrics
from medchain.trainer.models import evaluate
from medchain.trainer.spec import ModelSpec


def test_binary_classification_by_hand() -> None:
    labels = np.array([0, 1, 1, 0])
    p1 = np.array([0.2, 0.9, 0.4, 0.6])
    metrics = classification_metrics(labels, np.column_stack([1 - p1, p1]), (0, 1))
    assert metrics["accuracy"] == 0.5  # rows 0 and 1 right
    expected_loss = -(math.log(0.8) + math.log(0.9) + math.log(0.4) + math.log(0.4)) / 4
    assert metrics["log_loss"] == pytest.approx(expected_loss)
    # positives score 0.9, 0.4; negatives 0.2, 0.6: pairs won 0.9>0.2, 0.9>0.6, 0.4>0.2 -> 3/4
    assert metrics["auc"] == 0.75
    assert metrics["num_samples"] == 4.0


def test_auc_left_out_when_a_class_is_missing() -> None:
    metrics = classification_metrics(np.array([1, 1]), np.array([[0.3, 0.7], [0.6, 0.4]]), (0, 1))
    assert "auc" not in metrics
    assert metrics["accuracy"] == 0.5


def test_multiclass_auc_is_one_vs_rest() -> None:
    labels = np.array([0, 1, 2])
    probabilities = np.eye(3) * 0.8 + 0.2 / 3
    metrics = classification_metrics(labels, probabilities, (0, 1, 2))
    assert metrics["accuracy"] == 1.0
    assert metrics["auc"] == 1.0


def test_regression_by_hand() -> None:
    metrics = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 6.0]))
    assert metrics["rmse"] == pytest.approx(math.sqrt(3.0))  # errors 0, 0, 3 -> mse 3
    assert metrics["mae"] == 1.0
    assert metrics["r2"] == pytest.approx(1 - 9.0 / 2.0)  # SS_res 9, SS_tot 2
    assert "r2" not in regression_metrics(np.array([2.0]), np.array([1.0]))


def test_evaluate_linear_model() -> None:
    spec = ModelSpec(kind="linear_regression", n_features=1)
    params = [NamedTensor.from_numpy("coef", [[2.0]]), NamedTensor.from_numpy("intercept", [1.0])]
    metrics = evaluate(spec, params, [[0.0], [1.0]], [1.0, 4.0])  # predictions 1, 3
    assert metrics["mae"] == 0.5
    assert metrics["rmse"] == pytest.approx(math.sqrt(0.5))


def test_evaluate_logistic_model_by_hand() -> None:
    spec = ModelSpec(kind="logistic_regression", n_features=1, classes=(3, 7))
    params = [NamedTensor.from_numpy("coef", [[1.0]]), NamedTensor.from_numpy("intercept", [0.0])]
    metrics = evaluate(spec, params, [[-1.0], [2.0]], [3, 7])
    assert metrics["accuracy"] == 1.0
    p_first, p_second = 1 / (1 + math.e), 1 / (1 + math.exp(-2.0))  # P(class 7)
    assert metrics["log_loss"] == pytest.approx(-(math.log(1 - p_first) + math.log(p_second)) / 2)
