"""Privacy accounting against independent Gaussian-mechanism results, and its monotonicity."""

from __future__ import annotations

import math

import pytest
from scipy.optimize import brentq  # type: ignore[import-untyped]
from scipy.stats import norm  # type: ignore[import-untyped]

from medchain.aggregator.accounting import epsilon_after, noise_for_budget

# The orders the accountant searches (dp-accounting's defaults), written out independently.
ORDERS = [1 + x / 10 for x in range(1, 100)] + list(range(11, 64)) + [128, 256, 512, 1024]


def rdp_gaussian_epsilon(rounds: int, z: float, delta: float) -> float:
    """T Gaussian mechanisms: RDP T·α/(2z²), converted with Canonne-Kamath-Steinke (2020) eq. 20."""
    return min(
        rounds * a / (2 * z * z) + math.log1p(-1 / a) - math.log(delta * a) / (a - 1)
        for a in ORDERS
    )


def classic_rdp_epsilon(rounds: int, z: float, delta: float) -> float:
    """Mironov (2017) conversion minimised over continuous α: T/(2z²) + sqrt(2 T log(1/δ))/z."""
    return rounds / (2 * z * z) + math.sqrt(2 * rounds * math.log(1 / delta)) / z


def exact_gaussian_epsilon(rounds: int, z: float, delta: float) -> float:
    """The tight epsilon of T composed Gaussian mechanisms (Balle & Wang 2018; mu-GDP, mu=√T/z)."""
    mu = math.sqrt(rounds) / z

    def excess(eps: float) -> float:
        return float(norm.cdf(mu / 2 - eps / mu) - math.exp(eps) * norm.cdf(-mu / 2 - eps / mu))

    return float(brentq(lambda eps: excess(eps) - delta, 0.0, 500.0))


@pytest.mark.parametrize(("rounds", "z"), [(1, 1.0), (10, 2.0), (100, 5.0), (3, 0.7)])
def test_without_subsampling_matches_the_gaussian_rdp_formula(rounds: int, z: float) -> None:
    delta = 1e-5
    epsilon = epsilon_after(rounds, z, sampling_rate=1.0, delta=delta)
    assert epsilon == pytest.approx(rdp_gaussian_epsilon(rounds, z, delta), rel=1e-9)
    # A valid bound: never below the exact epsilon, never above the older RDP conversion.
    assert (
        exact_gaussian_epsilon(rounds, z, delta) <= epsilon <= classic_rdp_epsilon(rounds, z, delta)
    )


def test_one_gaussian_mechanism_by_value() -> None:
    # z = 1, δ = 1e-5: the best default order is α = 5.4 (the grid's 44th entry, 1 + 44/10).
    alpha = 1 + 44 / 10
    expected = alpha / 2 + math.log1p(-1 / alpha) - math.log(1e-5 * alpha) / (alpha - 1)
    assert epsilon_after(1, 1.0, 1.0, 1e-5) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(4.7285, abs=1e-4)


def test_monotone_in_every_argument() -> None:
    by_rounds = [epsilon_after(t, 1.2, 0.1, 1e-5) for t in (1, 10, 100, 1000)]
    assert by_rounds == sorted(by_rounds)
    assert len(set(by_rounds)) == 4
    by_noise = [epsilon_after(100, z, 0.1, 1e-5) for z in (0.8, 1.0, 2.0, 4.0)]
    assert by_noise == sorted(by_noise, reverse=True)
    by_rate = [epsilon_after(100, 1.2, q, 1e-5) for q in (0.01, 0.1, 0.5, 1.0)]
    assert by_rate == sorted(by_rate)
    by_delta = [epsilon_after(100, 1.2, 0.1, d) for d in (1e-7, 1e-5, 1e-3)]
    assert by_delta == sorted(by_delta, reverse=True)


def test_subsampling_amplifies_privacy() -> None:
    assert epsilon_after(50, 1.5, 0.05, 1e-5) < 0.25 * epsilon_after(50, 1.5, 1.0, 1e-5)


def test_edge_cases() -> None:
    assert epsilon_after(0, 1.0, 0.5, 1e-5) == 0.0
    assert epsilon_after(10, 1.0, 0.0, 1e-5) == 0.0
    assert epsilon_after(10, 0.0, 0.5, 1e-5) == math.inf
    with pytest.raises(ValueError, match="sampling_rate"):
        epsilon_after(10, 1.0, 1.5, 1e-5)
    with pytest.raises(ValueError, match="delta"):
        epsilon_after(10, 1.0, 0.5, 0.0)
    with pytest.raises(ValueError, match="noise_multiplier"):
        epsilon_after(10, -1.0, 0.5, 1e-5)


@pytest.mark.parametrize(("target", "rounds", "rate"), [(1.0, 20, 1.0), (3.0, 100, 0.2)])
def test_noise_for_budget_is_the_smallest_that_fits(
    target: float, rounds: int, rate: float
) -> None:
    z = noise_for_budget(target, rounds, rate, 1e-5, tolerance=1e-3)
    assert epsilon_after(rounds, z, rate, 1e-5) <= target
    assert epsilon_after(rounds, z * (1 - 2e-3), rate, 1e-5) > target


def test_noise_for_budget_refusals() -> None:
    assert noise_for_budget(1.0, 0, 0.5, 1e-5) == 0.0
    with pytest.raises(ValueError, match="out of reach"):
        noise_for_budget(1e-6, 1000, 1.0, 1e-5, max_noise_multiplier=10.0)
    with pytest.raises(ValueError, match="target_epsilon"):
        noise_for_budget(0.0, 10, 0.5, 1e-5)
