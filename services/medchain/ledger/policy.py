"""How long each kind of ledger call may take, and how failed ones are retried."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields

#: Commit codes that mean "someone wrote what you read first": re-running the whole transaction
#: is safe, because an invalidated transaction changed nothing.
RETRYABLE_VALIDATION_CODES = frozenset({11, 12})  # MVCC_READ_CONFLICT, PHANTOM_READ_CONFLICT


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds each call kind may take: evaluate short, endorse medium, commit long."""

    evaluate: float = 10.0
    endorse: float = 30.0
    submit: float = 30.0
    commit_status: float = 60.0

    def __post_init__(self) -> None:
        for f in fields(self):
            if not getattr(self, f.name) > 0:
                raise ValueError(f"deadline {f.name} must be positive seconds")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped in attempts and in delay."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("need 0 <= initial_backoff <= max_backoff")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def delays(self) -> Iterator[float]:
        """The pauses before each retry: `max_attempts - 1` of them."""
        delay = self.initial_backoff
        for _ in range(self.max_attempts - 1):
            # Jitter spreads retries of clients that conflicted with each other; not security.
            yield delay * (1 - self.jitter * random.random())  # noqa: S311
            delay = min(delay * self.multiplier, self.max_backoff)


#: The default for idempotent ledger writes: up to twelve attempts over about fifteen seconds,
#: enough for ten hospitals joining one study at once (each join rewrites the study's record,
#: so at most one of them commits per block).
DEFAULT_MVCC_RETRY = RetryPolicy(max_attempts=12, initial_backoff=0.1, max_backoff=2.0)
#: Re-endorsing when endorsers disagree because one lags a block behind (nothing was ordered yet).
ENDORSE_DISAGREEMENT_RETRY = RetryPolicy(max_attempts=6, initial_backoff=0.1, max_backoff=1.0)
#: The default for re-opening a broken event stream.
DEFAULT_RECONNECT = RetryPolicy(max_attempts=8, initial_backoff=0.2, max_backoff=5.0)
#: Deadlines used when none are given.
DEFAULT_DEADLINES = Deadlines()
