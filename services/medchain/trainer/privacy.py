"""Differential privacy on a model update: clip its L2 norm to C, add N(0, (z·C)²) per coordinate.

The update is new - global over all tensors together. Clipping bounds any one hospital's influence
(the sensitivity) by C; Gaussian noise with standard deviation z·C then gives the Gaussian mechanism
that aggregator.accounting accounts for with noise multiplier z. Randomness comes only from the
injected numpy Generator, so a run is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from medchain.common.tensors import NamedTensor, Parameters


def _check_layout(global_params: Parameters, new_params: Parameters) -> None:
    if [(t.name, t.shape) for t in global_params] != [(t.name, t.shape) for t in new_params]:
        raise ValueError("the update's layout differs from the global parameters'")


def update_norm(global_params: Parameters, new_params: Parameters) -> float:
    """L2 norm of new - global over every coordinate of every tensor."""
    _check_layout(global_params, new_params)
    return math.sqrt(
        sum(
            float(np.sum((n.values - g.values) ** 2))
            for g, n in zip(global_params, new_params, strict=True)
        )
    )


def clip_update(global_params: Parameters, new_params: Parameters, clip_norm: float) -> Parameters:
    """global + (new - global) · min(1, C / ‖new - global‖)."""
    if not (math.isfinite(clip_norm) and clip_norm > 0):
        raise ValueError(f"clip_norm must be finite and > 0, got {clip_norm}")
    norm = update_norm(global_params, new_params)
    factor = 1.0 if norm <= clip_norm else clip_norm / norm
    return [
        NamedTensor.from_numpy(g.name, g.values + factor * (n.values - g.values))
        for g, n in zip(global_params, new_params, strict=True)
    ]


def add_gaussian_noise(
    params: Parameters, standard_deviation: float, rng: np.random.Generator
) -> Parameters:
    """Add independent N(0, σ²) to every coordinate, tensor by tensor in parameter order."""
    if not (math.isfinite(standard_deviation) and standard_deviation >= 0):
        raise ValueError(f"standard deviation must be finite and >= 0, got {standard_deviation}")
    return [
        NamedTensor.from_numpy(t.name, t.values + rng.normal(0.0, standard_deviation, t.shape))
        for t in params
    ]


@dataclass(frozen=True)
class PrivateUpdate:
    """The parameters to send, and what clipping did (the norm is for the trainer's log only)."""

    params: Parameters
    norm_before_clipping: float
    clipped: bool


def privatize_update(
    global_params: Parameters,
    new_params: Parameters,
    *,
    clip_norm: float,
    noise_multiplier: float,
    rng: np.random.Generator,
) -> PrivateUpdate:
    """Clip the update to clip_norm, then add noise of standard deviation noise_multiplier · C."""
    if not (math.isfinite(noise_multiplier) and noise_multiplier >= 0):
        raise ValueError(f"noise_multiplier must be finite and >= 0, got {noise_multiplier}")
    norm = update_norm(global_params, new_params)
    clipped = clip_update(global_params, new_params, clip_norm)
    noisy = add_gaussian_noise(clipped, noise_multiplier * clip_norm, rng)
    return PrivateUpdate(params=noisy, norm_before_clipping=norm, clipped=norm > clip_norm)
