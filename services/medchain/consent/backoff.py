"""Exponential backoff without an attempt limit, for work that must be retried until it succeeds."""

from __future__ import annotations

import random
import threading


class Backoff:
    """Delays that double from `initial` up to `maximum`, with jitter; `reset()` after a success."""

    def __init__(self, initial: float, maximum: float, jitter: float = 0.25) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self._next = initial
        self._lock = threading.Lock()

    def failed(self) -> float:
        """The pause before the next attempt; each failure doubles it, up to `maximum`."""
        with self._lock:
            delay = self._next
            self._next = min(self._next * 2, self.maximum)
        # Jitter keeps services that failed together from retrying in lockstep; not security.
        return delay * (1 - self.jitter * random.random())  # noqa: S311

    def reset(self) -> None:
        """Start again from `initial`."""
        with self._lock:
            self._next = self.initial
