"""The pure aggregation maths: layout checks, flattening and the Krum scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medchain.aggregator.strategies.aggregate import (
    adam_update,
    check_same_layout,
    coordinate_median,
    flatten,
    krum_scores,
    trimmed_count,
    unflatten_like,
    weighted_average,
)
from medchain.common.tensors import NamedTensor

TEMPLATE = [
    NamedTensor.from_numpy("w0", np.arange(6.0).reshape(2, 3)),
    NamedTensor.from_numpy("b0", [10.0, 11.0, 12.0]),
]


def test_flatten_is_row_major_in_parameter_order() -> None:
    assert flatten(TEMPLATE).tolist() == [0, 1, 2, 3, 4, 5, 10, 11, 12]
    assert flatten([]).shape == (0,)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, 9, elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_unflatten_inverts_flatten(vector: np.ndarray) -> None:
    rebuilt = unflatten_like(vector, TEMPLATE)
    assert [(t.name, t.shape) for t in rebuilt] == [("w0", (2, 3)), ("b0", (3,))]
    assert flatten(rebuilt).tobytes() == vector.tobytes()


def test_unflatten_refuses_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="does not fill"):
        unflatten_like(np.zeros(8), TEMPLATE)


def test_layout_mismatch_names_both_layouts() -> None:
    renamed = [NamedTensor.from_numpy("w1", np.zeros((2, 3))), TEMPLATE[1]]
    with pytest.raises(ValueError, match="w1"):
        check_same_layout(TEMPLATE, renamed)


def test_weighted_average_validates_weights() -> None:
    with pytest.raises(ValueError, match="positive sum"):
        weighted_average([TEMPLATE, TEMPLATE], [0.0, 0.0])
    with pytest.raises(ValueError, match="weights"):
        weighted_average([TEMPLATE, TEMPLATE], [1.0])
    with pytest.raises(ValueError, match="nothing"):
        coordinate_median([])


def test_krum_scores_by_hand() -> None:
    rows = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    assert krum_scores(rows, num_byzantine=1).tolist() == [5.0, 2.0, 2.0, 5.0, 113.0]
    # f=0 -> 3 neighbours: h0 1+4+9, h1 1+1+4, h2 1+1+4, h3 1+4+9, h4 49+64+81
    assert krum_scores(rows, num_byzantine=0).tolist() == [14.0, 6.0, 6.0, 14.0, 194.0]


def test_trimmed_count_is_floor() -> None:
    assert [trimmed_count(n, 0.2) for n in (4, 5, 9, 10)] == [0, 1, 1, 2]


def test_adam_update_refuses_step_zero() -> None:
    zero = np.zeros(1)
    with pytest.raises(ValueError, match="from 1"):
        adam_update(zero, zero, zero, zero, 0, eta=0.1, beta1=0.9, beta2=0.99, tau=1e-9)
