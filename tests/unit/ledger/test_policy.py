"""Deadlines and retry backoff: validated, exponential, capped."""

from __future__ import annotations

import pytest

from medchain.ledger.policy import Deadlines, RetryPolicy


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(
        max_attempts=6, initial_backoff=0.1, max_backoff=0.5, multiplier=2, jitter=0
    )
    assert list(policy.delays()) == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_jitter_only_shortens() -> None:
    policy = RetryPolicy(max_attempts=50, initial_backoff=1, max_backoff=1, jitter=0.5)
    assert all(0.5 <= d <= 1 for d in policy.delays())


def test_one_attempt_means_no_retry() -> None:
    assert list(RetryPolicy(max_attempts=1).delays()) == []


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"initial_backoff": 3, "max_backoff": 1}, "initial_backoff"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"jitter": 2}, "jitter"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, float], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_deadlines_must_be_positive() -> None:
    assert Deadlines(commit_status=120).commit_status == 120
    with pytest.raises(ValueError, match="evaluate"):
        Deadlines(evaluate=0)
