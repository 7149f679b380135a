"""Local training from given parameters: exact steps by hand, gradients, FedProx, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.neural_network import MLPClassifier

from medchain.common.tensors import NamedTensor, Parameters, parameters_hash
from medchain.trainer.linear import data_gradients
from medchain.trainer.models import (
    initial_parameters,
    parameter_shapes,
    predict,
    predict_proba,
    train,
)
from medchain.trainer.objective import cross_entropy, half_squared_error, output_probabilities
from medchain.trainer.privacy import update_norm
from medchain.trainer.spec import ModelSpec


def _standardised(x: np.ndarray) -> np.ndarray:
    scaled: np.ndarray = (x - x.mean(axis=0)) / x.std(axis=0)
    return scaled


def _tensor_values(params: Parameters) -> dict[str, list[float]]:
    return {t.name: t.values.ravel().tolist() for t in params}


def test_layouts() -> None:
    binary = ModelSpec(kind="logistic_regression", n_features=3, classes=(0, 1))
    assert parameter_shapes(binary) == {"coef": (1, 3), "intercept": (1,)}
    multi = ModelSpec(kind="logistic_regression", n_features=3, classes=(0, 1, 2))
    assert parameter_shapes(multi) == {"coef": (3, 3), "intercept": (3,)}
    linear = ModelSpec(kind="linear_regression", n_features=3)
    assert parameter_shapes(linear) == {"coef": (1, 3), "intercept": (1,)}
    mlp = ModelSpec(kind="mlp_classifier", n_features=3, classes=(1, 2, 5), hidden_units=4)
    assert parameter_shapes(mlp) == {"w0": (3, 4), "b0": (4,), "w1": (4, 3), "b1": (3,)}
    regressor = ModelSpec(kind="mlp_regressor", n_features=3, hidden_units=4)
    assert parameter_shapes(regressor)["w1"] == (4, 1)


def test_initial_parameters() -> None:
    linear = initial_parameters(ModelSpec(kind="linear_regression", n_features=2))
    assert _tensor_values(linear) == {"coef": [0.0, 0.0], "intercept": [0.0]}
    spec = ModelSpec(kind="mlp_regressor", n_features=2, hidden_units=3, seed=4)
    first, again = initial_parameters(spec), initial_parameters(spec)
    assert parameters_hash(first) == parameters_hash(again)
    assert np.all(np.abs(first[0].values) <= np.sqrt(6.0 / 5.0))
    other = initial_parameters(spec.model_copy(update={"seed": 5}))
    assert parameters_hash(other) != parameters_hash(first)


def test_spec_validation() -> None:
    with pytest.raises(ValidationError, match="two or more"):
        ModelSpec(kind="logistic_regression", n_features=2, classes=(1,))
    with pytest.raises(ValidationError, match="sorted"):
        ModelSpec(kind="mlp_classifier", n_features=2, classes=(1, 0))
    with pytest.raises(ValidationError, match="takes no classes"):
        ModelSpec(kind="linear_regression", n_features=2, classes=(0, 1))
    with pytest.raises(ValidationError):
        ModelSpec(kind="linear_regression", n_features=2, learning_rate=0.0)


def test_linear_regression_two_steps_by_hand_with_l2_and_proximal_term() -> None:
    spec = ModelSpec(
        kind="linear_regression", n_features=2, learning_rate=0.1, local_epochs=2, l2=0.5
    )
    # step 1 at θ = θ_global = 0: residual -3, g_coef = [-3, -6], g_b = -3 -> coef [.3, .6], b .3
    # step 2: prediction 1.8, residual -1.2; g_coef = [-1.2, -2.4] + l2 [.15, .3] + mu [.3, .6]
    #         coef = [.3, .6] - .1 [-.75, -1.5] = [.375, .75]; b = .3 - .1 (-1.2 + .3) = .39
    new, metrics = train(
        spec,
        initial_parameters(spec),
        [[1.0, 2.0]],
        [3.0],
        proximal_mu=1.0,
        rng=np.random.default_rng(0),
    )
    values = _tensor_values(new)
    assert values["coef"] == pytest.approx([0.375, 0.75], abs=1e-15)
    assert values["intercept"] == pytest.approx([0.39], abs=1e-15)
    assert metrics["steps"] == 2.0
    assert metrics["loss"] == pytest.approx(0.5 * (3.0 - (0.375 + 1.5 + 0.39)) ** 2)


def test_logistic_regression_one_step_by_hand() -> None:
    spec = ModelSpec(
        kind="logistic_regression", n_features=2, classes=(0, 1), learning_rate=1.0, batch_size=2
    )
    # p = 0.5 for both rows; (p - t)/2 = [0.25, -0.25]; g_coef = [0.25, -0.25], g_b = 0
    new, _ = train(
        spec,
        initial_parameters(spec),
        [[1.0, 0.0], [0.0, 1.0]],
        [0, 1],
        rng=np.random.default_rng(0),
    )
    assert _tensor_values(new) == {"coef": [-0.25, 0.25], "intercept": [0.0]}


@pytest.mark.parametrize("outputs", [1, 3])
def test_classification_gradient_matches_finite_differences(outputs: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 4))
    coef, intercept = rng.normal(size=(outputs, 4)), rng.normal(size=outputs)
    labels = rng.integers(0, max(outputs, 2), size=7)
    target = (labels == 1)[:, None].astype(float) if outputs == 1 else np.eye(outputs)[labels]

    def loss(c: np.ndarray, b: np.ndarray) -> float:
        return cross_entropy(output_probabilities(x @ c.T + b), labels)

    g_coef, g_intercept = data_gradients(coef, intercept, x, target, classification=True)
    step = 1e-6
    for index in np.ndindex(coef.shape):
        bumped = coef.copy()
        bumped[index] += step
        dropped = coef.copy()
        dropped[index] -= step
        numeric = (loss(bumped, intercept) - loss(dropped, intercept)) / (2 * step)
        assert g_coef[index] == pytest.approx(numeric, abs=1e-7)
    for i in range(outputs):
        bumped_b, dropped_b = intercept.copy(), intercept.copy()
        bumped_b[i] += step
        dropped_b[i] -= step
        numeric = (loss(coef, bumped_b) - loss(coef, dropped_b)) / (2 * step)
        assert g_intercept[i] == pytest.approx(numeric, abs=1e-7)


def test_regression_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    coef, intercept = rng.normal(size=(1, 3)), rng.normal(size=1)
    g_coef, _ = data_gradients(coef, intercept, x, y, classification=False)
    for j in range(3):
        bumped, dropped = coef.copy(), coef.copy()
        bumped[0, j] += 1e-6
        dropped[0, j] -= 1e-6
        numeric = (
            half_squared_error(x @ bumped.T + intercept, y)
            - half_squared_error(x @ dropped.T + intercept, y)
        ) / 2e-6
        assert g_coef[0, j] == pytest.approx(numeric, abs=1e-6)


def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_breast_cancer(return_X_y=True)
    return _standardised(x), y


@pytest.mark.parametrize("kind", ["logistic_regression", "mlp_classifier"])
def test_proximal_term_keeps_the_update_near_the_global_model(kind: str) -> None:
    x, y = _breast_cancer()
    spec = ModelSpec(kind=kind, n_features=30, classes=(0, 1), local_epochs=3, hidden_units=8)
    start = initial_parameters(spec)
    free, _ = train(spec, start, x, y, proximal_mu=0.0, rng=np.random.default_rng(3))
    held, _ = train(spec, start, x, y, proximal_mu=5.0, rng=np.random.default_rng(3))
    assert update_norm(start, held) < 0.5 * update_norm(start, free)


@pytest.mark.parametrize(
    ("kind", "classes"),
    [
        ("logistic_regression", (0, 1)),
        ("mlp_classifier", (0, 1)),
        ("linear_regression", ()),
        ("mlp_regressor", ()),
    ],
)
def test_training_is_deterministic_given_the_generator(kind: str, classes: tuple[int, ...]) -> None:
    x, y = _breast_cancer()
    spec = ModelSpec(kind=kind, n_features=30, classes=classes, hidden_units=4, learning_rate=0.01)
    start = initial_parameters(spec)
    a, metrics_a = train(spec, start, x, y, rng=np.random.default_rng(11))
    b, metrics_b = train(spec, start, x, y, rng=np.random.default_rng(11))
    c, _ = train(spec, start, x, y, rng=np.random.default_rng(12))
    assert parameters_hash(a) == parameters_hash(b)
    assert metrics_a == metrics_b
    assert parameters_hash(a) != parameters_hash(c)  # a different shuffle gives other steps


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mlp_forward_pass_matches_sklearn() -> None:
    x, y = _breast_cancer()
    reference = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    reference.fit(x[:100], y[:100])
    spec = ModelSpec(kind="mlp_classifier", n_features=30, classes=(0, 1), hidden_units=5)
    params = [
        NamedTensor.from_numpy("w0", reference.coefs_[0]),
        NamedTensor.from_numpy("b0", reference.intercepts_[0]),
        NamedTensor.from_numpy("w1", reference.coefs_[1]),
        NamedTensor.from_numpy("b1", reference.intercepts_[1]),
    ]
    np.testing.assert_allclose(
        predict_proba(spec, params, x), reference.predict_proba(x), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("kind", ["logistic_regression", "mlp_classifier"])
def test_multiclass_models_learn_iris(kind: str) -> None:
    x, y = load_iris(return_X_y=True)
    x = _standardised(x)
    spec = ModelSpec(kind=kind, n_features=4, classes=(0, 1, 2), local_epochs=30)
    params, metrics = train(spec, initial_parameters(spec), x, y, rng=np.random.default_rng(0))
    assert float(np.mean(predict(spec, params, x) == y)) > 0.9
    assert metrics["loss"] < 0.4


def test_mlp_training_starts_from_the_given_parameters() -> None:
    x, y = _breast_cancer()
    spec = ModelSpec(
        kind="mlp_classifier", n_features=30, classes=(0, 1), hidden_units=4, learning_rate=1e-9
    )
    start = initial_parameters(spec)
    new, _ = train(spec, start, x, y, rng=np.random.default_rng(0))
    # With a vanishing learning rate the result is the start, not sklearn's own initialisation.
    assert update_norm(start, new) < 1e-6


def test_bad_inputs_are_refused() -> None:
    spec = ModelSpec(kind="logistic_regression", n_features=2, classes=(0, 1))
    params = initial_parameters(spec)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"labels \[2\] not in"):
        train(spec, params, [[0.0, 0.0]], [2], rng=rng)
    with pytest.raises(ValueError, match="features must be"):
        train(spec, params, [[0.0, 0.0, 0.0]], [0], rng=rng)
    with pytest.raises(ValueError, match="do not fit"):
        train(spec, params[:1], [[0.0, 0.0]], [0], rng=rng)
    with pytest.raises(ValueError, match="NaN"):
        train(spec, params, [[np.nan, 0.0]], [0], rng=rng)
    with pytest.raises(ValueError, match="proximal_mu"):
        train(spec, params, [[0.0, 0.0]], [0], proximal_mu=-1.0, rng=rng)
    mlp = ModelSpec(kind="mlp_classifier", n_features=2, classes=(0, 1))
    with pytest.raises(ValueError, match="not in"):
        train(mlp, initial_parameters(mlp), [[0.0, 0.0]], [7], rng=rng)
