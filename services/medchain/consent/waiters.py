"""Requests waiting for their changes to commit, woken from the outbox's threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable


class CommitWaiters:
    """Futures of asyncio requests keyed by submission id; `notify` may be called from any thread.

    A request registers before it reads the state of its submission, so a change the outbox makes
    between that read and the wait still wakes it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}

    def register(self, submission_id: str) -> asyncio.Future[None]:
        """A future that completes at the next change of the submission (call inside a loop)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.setdefault(submission_id, set()).add(future)
        return future

    def discard(self, submission_id: str, future: asyncio.Future[None]) -> None:
        """Stop waiting (after a timeout or once the answer is known)."""
        with self._lock:
            waiting = self._waiting.get(submission_id)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self._waiting[submission_id]
        future.cancel()

    def notify(self, submission_ids: Iterable[str]) -> None:
        """Wake every request waiting on one of these submissions."""
        with self._lock:
            woken = [f for sid in set(submission_ids) for f in self._waiting.pop(sid, ())]
        for future in woken:
            loop = future.get_loop()
            if loop.is_closed():
                continue  # the app shut down; nobody is waiting any more
            loop.call_soon_threadsafe(_settle, future)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._waiting.values())


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
