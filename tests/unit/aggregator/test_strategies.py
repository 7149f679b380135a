"""Every strategy against hand-computed results, plus robustness to one poisoned update."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pytest

from medchain.aggregator.strategies import (
    STRATEGIES,
    AdamState,
    ClientUpdate,
    FedAdam,
    FedAvg,
    FedProx,
    Krum,
    Median,
    Strategy,
    TrimmedMean,
    strategy_from_name,
)
from medchain.aggregator.strategies.aggregate import flatten
from medchain.common.tensors import NamedTensor, Parameters


def params(w: Sequence[float], b: Sequence[float] = (0.0,)) -> Parameters:
    return [NamedTensor.from_numpy("w", list(w)), NamedTensor.from_numpy("b", list(b))]


def update(org: str, w: Sequence[float], b: Sequence[float] = (0.0,), n: int = 1) -> ClientUpdate:
    return ClientUpdate(org, params(w, b), n)


def values(p: Parameters) -> list[list[float]]:
    return [t.values.tolist() for t in p]


GLOBAL = params([0.0, 0.0])


def test_fedavg_weights_by_samples() -> None:
    result = FedAvg().aggregate(
        GLOBAL, [update("h1", [1, 2], [0], n=1), update("h2", [3, 4], [2], n=3)]
    )
    # w = (1*1 + 3*3)/4, (1*2 + 3*4)/4; b = (0 + 3*2)/4
    assert values(result) == [[2.5, 3.5], [1.5]]
    assert [t.name for t in result] == ["w", "b"]


def test_fedprox_aggregates_like_fedavg_and_tells_trainers_mu() -> None:
    updates = [update("h1", [1, 2], [0], n=1), update("h2", [3, 4], [2], n=3)]
    strategy = FedProx(proximal_mu=0.01)
    assert values(strategy.aggregate(GLOBAL, updates)) == [[2.5, 3.5], [1.5]]
    assert strategy.trainer_options() == {"proximal_mu": 0.01}
    assert FedAvg().trainer_options() == {}
    with pytest.raises(ValueError, match="proximal_mu"):
        FedProx(proximal_mu=-1.0)


def test_median_odd_and_even() -> None:
    odd = [update("h1", [1, 5]), update("h2", [2, 0], n=50), update("h3", [9, 1])]
    assert values(Median().aggregate(GLOBAL, odd)) == [[2.0, 1.0], [0.0]]
    even = [*odd, update("h4", [3, 3])]
    # w0 sorted 1,2,3,9 -> (2+3)/2; w1 sorted 0,1,3,5 -> (1+3)/2
    assert values(Median().aggregate(GLOBAL, even)) == [[2.5, 2.0], [0.0]]


def test_trimmed_mean_drops_floor_beta_n_each_side() -> None:
    ups = [update(f"h{i}", [v, -v]) for i, v in enumerate([4, 1, 100, 3, 2])]
    # beta=0.2, n=5 -> trim 1 each side: w0 mean(2,3,4) = 3, w1 mean(-4,-3,-2) = -3
    assert values(TrimmedMean(beta=0.2).aggregate(GLOBAL, ups)) == [[3.0, -3.0], [0.0]]
    # beta=0.1, n=5 -> floor(0.5) = 0 trimmed: the plain mean 110/5
    assert values(TrimmedMean(beta=0.1).aggregate(GLOBAL, ups)) == [[22.0, -22.0], [0.0]]
    with pytest.raises(ValueError, match="beta"):
        TrimmedMean(beta=0.5)


KRUM_UPDATES = [
    update("h0", [0, 0], n=1),
    update("h1", [1, 0], n=1),
    update("h2", [2, 0], n=2),
    update("h3", [3, 0], n=1),
    update("h4", [10, 0], n=1),
]


def test_krum_picks_the_update_closest_to_its_neighbours() -> None:
    # f=1, n=5 -> 2 nearest neighbours. Squared distances along w0:
    # h0: 1+4=5, h1: 1+1=2, h2: 1+1=2, h3: 4+1=5, h4: 49+64=113; tie h1/h2 -> lower index.
    krum = Krum(num_byzantine=1)
    assert krum.select(GLOBAL, KRUM_UPDATES) == [1]
    assert values(krum.aggregate(GLOBAL, KRUM_UPDATES)) == [[1.0, 0.0], [0.0]]


def test_multi_krum_averages_the_selected_by_samples() -> None:
    multi = Krum(num_byzantine=1, num_selected=3)
    assert multi.select(GLOBAL, KRUM_UPDATES) == [1, 2, 0]
    # (1*1 + 2*2 + 1*0) / (1 + 2 + 1)
    assert values(multi.aggregate(GLOBAL, KRUM_UPDATES)) == [[1.25, 0.0], [0.0]]


def test_krum_refuses_too_few_updates_for_f() -> None:
    with pytest.raises(ValueError, match="n > 2f"):
        Krum(num_byzantine=2).aggregate(GLOBAL, KRUM_UPDATES)
    with pytest.raises(ValueError, match="select between"):
        Krum(num_byzantine=1, num_selected=5).aggregate(GLOBAL, KRUM_UPDATES)


def test_fedadam_two_steps_by_hand() -> None:
    strategy = FedAdam(eta=0.1, beta1=0.9, beta2=0.99, tau=0.05)
    one = params([1.0], [0.0])
    # step 1: g = 1 - 0.5 = 0.5; m = 0.05; v = 0.0025; step size 0.1*sqrt(0.01)/0.1 = 0.1
    # x = 1 - 0.1 * 0.05 / (0.05 + 0.05) = 0.95
    first = strategy.aggregate(one, [update("h1", [0.5], [0.0])])
    assert values(first)[0] == pytest.approx([0.95], abs=1e-15)
    # step 2: g = 0.95 - 0.45 = 0.5; m = 0.9*0.05 + 0.1*0.5 = 0.095; v = 0.99*0.0025 + 0.01*0.25
    second = strategy.aggregate(first, [update("h1", [0.45], [0.0])])
    step_size = 0.1 * math.sqrt(1 - 0.99**2) / (1 - 0.9**2)
    expected = 0.95 - step_size * 0.095 / (math.sqrt(0.004975) + 0.05)
    assert values(second)[0] == pytest.approx([expected], abs=1e-12)
    assert strategy.state is not None
    assert strategy.state.step == 2
    assert values(strategy.state.first_moment)[0] == pytest.approx([0.095], abs=1e-15)
    # b never moved: its pseudo-gradient is 0, and 0/(0 + tau) = 0
    assert values(second)[1] == [0.0]


def test_fedadam_resumes_from_serialised_state_bit_for_bit() -> None:
    rounds = [[update("h1", [0.3, -0.2], n=2), update("h2", [0.1, 0.4], n=1)]] * 3
    straight = FedAdam()
    current = GLOBAL
    for ups in rounds:
        current = straight.aggregate(current, ups)

    first = FedAdam()
    resumed_current = first.aggregate(GLOBAL, rounds[0])
    assert first.state is not None
    saved = json.dumps(first.state.to_json())
    resumed = FedAdam(state=AdamState.from_json(json.loads(saved)))
    for ups in rounds[1:]:
        resumed_current = resumed.aggregate(resumed_current, ups)
    assert flatten(resumed_current).tobytes() == flatten(current).tobytes()


@pytest.mark.parametrize(
    "strategy",
    [FedAvg(), Median(), TrimmedMean(0.2), Krum(0), FedAdam(), FedProx(0.1)],
    ids=lambda s: s.name,
)
def test_invalid_rounds_are_refused(strategy: Strategy) -> None:
    with pytest.raises(ValueError, match="at least one"):
        strategy.aggregate(GLOBAL, [])
    with pytest.raises(ValueError, match="one update per org"):
        strategy.aggregate(GLOBAL, [update("h1", [1, 1]), update("h1", [2, 2])])
    with pytest.raises(ValueError, match="layout"):
        strategy.aggregate(GLOBAL, [update("h1", [1, 1, 1])])


def test_client_update_needs_samples_and_org() -> None:
    with pytest.raises(ValueError, match="num_samples"):
        update("h1", [1, 1], n=0)
    with pytest.raises(ValueError, match="org"):
        update("", [1, 1])


def test_registry_builds_every_strategy_by_name() -> None:
    assert set(STRATEGIES) == {"fedavg", "fedprox", "median", "trimmed_mean", "krum", "fedadam"}
    krum = strategy_from_name("krum", num_byzantine=1, num_selected=2)
    assert isinstance(krum, Krum)
    assert (krum.num_byzantine, krum.num_selected) == (1, 2)
    assert strategy_from_name("fedprox", proximal_mu=0.5).trainer_options() == {"proximal_mu": 0.5}
    assert isinstance(strategy_from_name("fedadam", eta=0.01), FedAdam)
    with pytest.raises(ValueError, match="unknown strategy"):
        strategy_from_name("fedsgd")
    with pytest.raises(ValueError, match="bad options"):
        strategy_from_name("median", beta=0.1)


def _poisoned_round(attack: str) -> tuple[list[ClientUpdate], np.ndarray]:
    rng = np.random.default_rng(7)
    direction = rng.normal(size=6)
    honest = [direction + 0.01 * rng.normal(size=6) for _ in range(4)]
    attacker = 100.0 * honest[0] if attack == "scaled_x100" else -honest[0]
    rows = [*honest, attacker]
    ups = [
        ClientUpdate(f"h{i}", [NamedTensor.from_numpy("w", row)], num_samples=100)
        for i, row in enumerate(rows)
    ]
    return ups, np.mean(honest, axis=0)


@pytest.mark.parametrize("attack", ["scaled_x100", "sign_flipped"])
def test_one_poisoned_update_of_five(attack: str) -> None:
    ups, honest_mean = _poisoned_round(attack)
    origin = [NamedTensor.from_numpy("w", np.zeros(6))]
    scale = float(np.linalg.norm(honest_mean))

    def error(strategy: Strategy) -> float:
        return float(np.linalg.norm(flatten(strategy.aggregate(origin, ups)) - honest_mean))

    assert error(Median()) < 0.05 * scale
    assert error(Krum(num_byzantine=1)) < 0.05 * scale
    assert error(Krum(num_byzantine=1, num_selected=3)) < 0.05 * scale
    assert error(FedAvg()) > 0.3 * scale
