"""DP on an update: exact clipping, noise from the injected generator only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medchain.common.tensors import NamedTensor, Parameters
from medchain.trainer.privacy import (
    add_gaussian_noise,
    clip_update,
    privatize_update,
    update_norm,
)


def params(w: list[float], b: list[float]) -> Parameters:
    return [NamedTensor.from_numpy("w", w), NamedTensor.from_numpy("b", b)]


GLOBAL = params([1.0, 1.0], [0.0])
NEW = params([4.0, 1.0], [4.0])  # update (3, 0, 4): norm 5


def test_update_norm_spans_every_tensor() -> None:
    assert update_norm(GLOBAL, NEW) == 5.0


def test_clip_scales_the_update_not_the_parameters() -> None:
    clipped = clip_update(GLOBAL, NEW, clip_norm=1.0)
    assert [t.values.tolist() for t in clipped] == [
        pytest.approx([1.6, 1.0]),
        pytest.approx([0.8]),
    ]
    assert update_norm(GLOBAL, clipped) == pytest.approx(1.0)
    unchanged = clip_update(GLOBAL, NEW, clip_norm=5.0)
    assert [t.values.tolist() for t in unchanged] == [[4.0, 1.0], [4.0]]


def test_noise_comes_from_the_generator_in_parameter_order() -> None:
    result = privatize_update(
        GLOBAL, NEW, clip_norm=2.0, noise_multiplier=0.5, rng=np.random.default_rng(42)
    )
    reference = np.random.default_rng(42)
    noise_w, noise_b = reference.normal(0.0, 1.0, 2), reference.normal(0.0, 1.0, 1)  # σ = z C = 1
    np.testing.assert_allclose(result.params[0].values, np.array([2.2, 1.0]) + noise_w)
    np.testing.assert_allclose(result.params[1].values, np.array([1.6]) + noise_b)
    assert result.norm_before_clipping == 5.0
    assert result.clipped


def test_zero_noise_multiplier_only_clips() -> None:
    result = privatize_update(
        GLOBAL, NEW, clip_norm=10.0, noise_multiplier=0.0, rng=np.random.default_rng(0)
    )
    assert [t.values.tolist() for t in result.params] == [[4.0, 1.0], [4.0]]
    assert not result.clipped


def test_noise_has_the_requested_spread() -> None:
    zeros = [NamedTensor.from_numpy("w", np.zeros(20_000))]
    noisy = add_gaussian_noise(zeros, 0.3, np.random.default_rng(7))
    assert float(np.std(noisy[0].values)) == pytest.approx(0.3, rel=0.03)
    assert abs(float(np.mean(noisy[0].values))) < 0.01


@pytest.mark.parametrize(
    ("clip", "z"), [(0.0, 1.0), (-1.0, 1.0), (math.inf, 1.0), (1.0, -0.1), (1.0, math.nan)]
)
def test_invalid_settings_are_refused(clip: float, z: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        privatize_update(
            GLOBAL, NEW, clip_norm=clip, noise_multiplier=z, rng=np.random.default_rng()
        )


def test_layout_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="layout"):
        update_norm(GLOBAL, params([1.0], [0.0]))
