"""DP-FedAvg privacy accounting: epsilon spent after some rounds, and the noise a budget allows.

Each round is one Poisson-subsampled Gaussian mechanism: every participant is in the round with
probability `sampling_rate`, its update clipped to norm C and noised with standard deviation
`noise_multiplier` · C (see trainer.privacy). Rounds compose under Rényi DP, using the RDP
accountant of Google's `dp-accounting` package (orders 1.1 to 1024, add-or-remove-one neighbours),
and the total converts to (epsilon, delta)-DP with the bound of Canonne, Kamath and Steinke (2020).
"""

from __future__ import annotations

import math

import dp_accounting  # type: ignore[import-untyped]
from dp_accounting import rdp


def _check(rounds: int, sampling_rate: float, delta: float) -> None:
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
    if not 0.0 <= sampling_rate <= 1.0:
        raise ValueError(f"sampling_rate must be in [0, 1], got {sampling_rate}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")


def epsilon_after(
    rounds: int, noise_multiplier: float, sampling_rate: float, delta: float
) -> float:
    """Epsilon spent at `delta` after `rounds` rounds; inf without noise, 0 without rounds."""
    _check(rounds, sampling_rate, delta)
    if not (math.isfinite(noise_multiplier) and noise_multiplier >= 0):
        raise ValueError(f"noise_multiplier must be finite and >= 0, got {noise_multiplier}")
    if rounds == 0 or sampling_rate == 0.0:
        return 0.0
    if noise_multiplier == 0.0:
        return math.inf
    event = dp_accounting.PoissonSampledDpEvent(
        sampling_rate, dp_accounting.GaussianDpEvent(noise_multiplier)
    )
    accountant = rdp.RdpAccountant()
    accountant.compose(event, rounds)
    return float(accountant.get_epsilon(delta))


def noise_for_budget(
    target_epsilon: float,
    rounds: int,
    sampling_rate: float,
    delta: float,
    *,
    tolerance: float = 1e-3,
    max_noise_multiplier: float = 1e4,
) -> float:
    """The smallest noise multiplier (to within `tolerance`, relative) that keeps epsilon <= target.

    Epsilon falls as the noise multiplier grows, so bisection applies; the answer returned always
    satisfies the budget. ValueError if even `max_noise_multiplier` does not.
    """
    _check(rounds, sampling_rate, delta)
    if not (math.isfinite(target_epsilon) and target_epsilon > 0):
        raise ValueError(f"target_epsilon must be finite and > 0, got {target_epsilon}")
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be in (0, 1), got {tolerance}")
    if rounds == 0 or sampling_rate == 0.0:
        return 0.0

    def within(z: float) -> bool:
        return epsilon_after(rounds, z, sampling_rate, delta) <= target_epsilon

    high = 1.0
    while not within(high):
        if high >= max_noise_multiplier:
            raise ValueError(
                f"epsilon {target_epsilon} is out of reach with noise multiplier "
                f"<= {max_noise_multiplier} over {rounds} rounds"
            )
        high = min(2.0 * high, max_noise_multiplier)
    low = 0.0
    while high - low > tolerance * high:
        middle = (low + high) / 2.0
        if within(middle):
            high = middle
        else:
            low = middle
    return high
