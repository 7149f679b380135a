"""Aggregation maths over model parameters: pure functions shared by every strategy."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from medchain.common.tensors import NamedTensor, Parameters

FloatArray = npt.NDArray[np.float64]


def check_same_layout(reference: Sequence[NamedTensor], candidate: Sequence[NamedTensor]) -> None:
    """Raise ValueError unless both have the same tensor names, order and shapes."""
    expected = [(t.name, t.shape) for t in reference]
    got = [(t.name, t.shape) for t in candidate]
    if expected != got:
        raise ValueError(f"parameter layout {got} does not match {expected}")


def flatten(params: Sequence[NamedTensor]) -> FloatArray:
    """All values in parameter order, row-major, as one vector."""
    if not params:
        return np.zeros(0, dtype=np.float64)
    return np.concatenate([t.values.ravel() for t in params]).astype(np.float64, copy=False)


def unflatten_like(vector: FloatArray, template: Sequence[NamedTensor]) -> Parameters:
    """Cut a vector back into tensors with the template's names and shapes."""
    total = sum(math.prod(t.shape) for t in template)
    if vector.shape != (total,):
        raise ValueError(f"vector of shape {vector.shape} does not fill {total} parameters")
    out: Parameters = []
    offset = 0
    for tensor in template:
        size = math.prod(tensor.shape)
        out.append(
            NamedTensor.from_numpy(
                tensor.name, vector[offset : offset + size].reshape(tensor.shape)
            )
        )
        offset += size
    return out


def stack(params_list: Sequence[Sequence[NamedTensor]]) -> FloatArray:
    """One row per parameter set, after checking they share a layout: shape (n, d)."""
    if not params_list:
        raise ValueError("nothing to aggregate")
    for params in params_list[1:]:
        check_same_layout(params_list[0], params)
    return np.stack([flatten(p) for p in params_list])


def weighted_average(
    params_list: Sequence[Sequence[NamedTensor]], weights: Sequence[float]
) -> Parameters:
    """Sum of w_i * params_i / sum of w_i; weights must be non-negative with a positive sum."""
    matrix = stack(params_list)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(params_list),):
        raise ValueError(f"{len(params_list)} parameter sets but {w.shape} weights")
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError("weights must be non-negative with a positive sum")
    return unflatten_like((w @ matrix) / w.sum(), params_list[0])


def coordinate_median(params_list: Sequence[Sequence[NamedTensor]]) -> Parameters:
    """Median of each coordinate across parameter sets (mean of the middle two when n is even)."""
    return unflatten_like(np.median(stack(params_list), axis=0), params_list[0])


def trimmed_count(n: int, beta: float) -> int:
    """How many values trimmed_mean drops at each end: floor(beta * n)."""
    if not 0.0 <= beta < 0.5:
        raise ValueError(f"beta must be in [0, 0.5), got {beta}")
    return math.floor(beta * n)


def trimmed_mean(params_list: Sequence[Sequence[NamedTensor]], beta: float) -> Parameters:
    """Per coordinate, drop the floor(beta*n) lowest and highest values and average the rest."""
    matrix = stack(params_list)
    k = trimmed_count(len(params_list), beta)
    ordered = np.sort(matrix, axis=0)
    return unflatten_like(ordered[k : len(params_list) - k].mean(axis=0), params_list[0])


def krum_scores(vectors: FloatArray, num_byzantine: int) -> FloatArray:
    """Krum score of each row: sum of squared distances to its n - f - 2 nearest other rows.

    Needs n > 2f + 2, the condition under which Krum (Blanchard et al., 2017) is robust to f
    byzantine rows.
    """
    n = vectors.shape[0]
    if num_byzantine < 0 or n <= 2 * num_byzantine + 2:
        raise ValueError(f"Krum needs n > 2f + 2, got n={n}, f={num_byzantine}")
    differences = vectors[:, None, :] - vectors[None, :, :]
    distances = np.einsum("ijk,ijk->ij", differences, differences)
    neighbours = n - num_byzantine - 2
    scores = np.empty(n, dtype=np.float64)
    for i in range(n):
        others = np.delete(distances[i], i)
        scores[i] = np.sort(others)[:neighbours].sum()
    return scores


def krum_select(vectors: FloatArray, num_byzantine: int, num_selected: int) -> list[int]:
    """Indices of the num_selected rows with the lowest Krum scores (ties: lower index first)."""
    n = vectors.shape[0]
    if not 1 <= num_selected <= n - num_byzantine:
        raise ValueError(f"select between 1 and n - f = {n - num_byzantine}, got {num_selected}")
    scores = krum_scores(vectors, num_byzantine)
    return [int(i) for i in np.argsort(scores, kind="stable")[:num_selected]]


def adam_update(
    params: FloatArray,
    gradient: FloatArray,
    first_moment: FloatArray,
    second_moment: FloatArray,
    step: int,
    *,
    eta: float,
    beta1: float,
    beta2: float,
    tau: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One server Adam step (step counts from 1); returns new params and both moments.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    x' = x - eta * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + tau)
    The bias-corrected step size follows Flower's FedAdam; tau is the adaptivity floor of
    Reddi et al. (2021), "Adaptive Federated Optimization".
    """
    if step < 1:
        raise ValueError("Adam steps count from 1")
    m = beta1 * first_moment + (1.0 - beta1) * gradient
    v = beta2 * second_moment + (1.0 - beta2) * gradient * gradient
    step_size = eta * math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
    return params - step_size * m / (np.sqrt(v) + tau), m, v
