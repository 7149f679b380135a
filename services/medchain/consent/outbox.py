"""The durable outbox worker: pending changes, taken FIFO, become ledger transactions until each
is committed or rejected.

One scheduler thread plans jobs from the database: first it settles changes in doubt, then it
takes pending changes in `seq` order, at most one per key (a key waits while an earlier change of
it is open), records into RecordBatch jobs of up to `batch_size`, revokes one per job. Jobs run on
a small pool (`max_inflight` at once); their outcome is written in one database transaction and
the requests waiting on those submissions are woken. A ledger outage pauses planning with
exponential backoff, forever: it delays changes, it never drops them. Changes a crashed process
was submitting are in doubt at start and are settled from the ledger before anything else.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.common.logging import get_logger
from medchain.consent.backoff import Backoff
from medchain.consent.cache import PermissionCache
from medchain.consent.changes import Change, Key
from medchain.consent.jobs import Outcome, settle, submit_records, submit_revoke
from medchain.consent.ledger_access import LedgerAccess
from medchain.consent.store import ConsentStore
from medchain.consent.waiters import CommitWaiters

log = get_logger(__name__)
#: Pending rows scanned per plan, at most, looking for keys that are free.
SCAN_LIMIT = 20_000


@dataclass(frozen=True)
class OutboxConfig:
    """How the outbox batches and retries (from `ConsentSettings`)."""

    batch_size: int = 1000
    linger: float = 0.02
    max_inflight: int = 2
    doubt_checks: int = 3
    doubt_grace: float = 30.0
    poll: float = 1.0


@dataclass(frozen=True)
class Job:
    """Changes one ledger call carries: `kind` is record, revoke or settle."""

    kind: str
    changes: tuple[Change, ...]

    @property
    def keys(self) -> set[Key]:
        return {c.key for c in self.changes}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Outbox:
    """Moves stored changes to the ledger in the background; `nudge()` after storing new ones."""

    def __init__(
        self,
        store: ConsentStore,
        sessions: sessionmaker[Session],
        ledger: LedgerAccess,
        cache: PermissionCache,
        waiters: CommitWaiters,
        config: OutboxConfig,
        backoff: Backoff,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.ledger = ledger
        self.cache = cache
        self.waiters = waiters
        self.config = config
        self.backoff = backoff
        self.clock = clock
        self.totals = {"committed": 0, "rejected": 0, "transactions": 0, "failures": 0}
        self._cond = threading.Condition()
        self._busy: set[Key] = set()
        self._inflight = 0
        self._dirty = True
        self._nudged = False
        self._paused_until = 0.0
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(config.max_inflight, thread_name_prefix="consent-outbox")
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Mark what a previous process left submitting as in doubt, then start scheduling."""
        with transaction(self.sessions) as session:
            recovered = self.store.recover_after_restart(session)
        if recovered:
            log.warning("consent.outbox_recovered", in_doubt=recovered)
        self._thread = threading.Thread(target=self._run, name="consent-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop planning; let running jobs finish (their changes stay durable either way)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)

    def carries(self, keys: set[Key]) -> bool:
        """Whether a running job carries any of these keys."""
        with self._cond:
            return not self._busy.isdisjoint(keys)

    def nudge(self) -> None:
        """New pending changes are stored."""
        with self._cond:
            self._dirty = True
            self._nudged = True
            self._cond.notify_all()

    # -- scheduling ----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            jobs = self._plan()
            for job in jobs:
                self._pool.submit(self._execute, job)
            if jobs:
                continue
            with self._cond:
                if not self._dirty and not self._stop.is_set():
                    self._cond.wait(self._idle_wait())
                lingering = self._nudged and self.config.linger > 0
                self._dirty = self._nudged = False
            if lingering and self._pending_count() < self.config.batch_size:
                self._stop.wait(self.config.linger)  # a partial batch waits for company

    def _pending_count(self) -> int:
        with transaction(self.sessions) as session:
            return self.store.count_pending(session, self.config.batch_size)

    def _idle_wait(self) -> float:
        paused = self._paused_until - time.monotonic()
        return max(0.01, min(self.config.poll, paused)) if paused > 0 else self.config.poll

    def _plan(self) -> list[Job]:
        with self._cond:
            free = self.config.max_inflight - self._inflight
            if free <= 0 or time.monotonic() < self._paused_until:
                return []
            blocked = set(self._busy)
        now = self.clock()
        with transaction(self.sessions) as session:
            doubts = self.store.in_states(session, ["in_doubt"])
            jobs = self._settle_jobs(doubts, blocked, now)[:free]
            blocked |= {c.key for c in doubts}
            jobs += self._submit_jobs(session, blocked, free - len(jobs))
            submitting = [c.seq for job in jobs if job.kind != "settle" for c in job.changes]
            self.store.mark_submitting(session, submitting, now)
        with self._cond:
            for job in jobs:
                self._inflight += 1
                self._busy |= job.keys
        return jobs

    def _settle_jobs(
        self, doubts: Sequence[Change], blocked: set[Key], now: dt.datetime
    ) -> list[Job]:
        grace = dt.timedelta(seconds=self.config.doubt_grace)
        groups: dict[tuple[str | None, int], list[Change]] = {}
        for change in doubts:
            if change.key in blocked:
                continue
            if (
                change.last_tx_id is None
                and change.submitted_at
                and now - change.submitted_at < grace
            ):
                continue  # its lost transaction may still be on its way to a block
            groups.setdefault((change.last_tx_id, change.doubt_checks), []).append(change)
        size = self.config.batch_size
        return [
            Job("settle", tuple(group[i : i + size]))
            for group in groups.values()
            for i in range(0, len(group), size)
        ]

    def _submit_jobs(self, session: Session, blocked: set[Key], free: int) -> list[Job]:
        jobs: list[Job] = []
        records: list[Change] = []
        after, scanned = 0, 0
        while free - len(jobs) > 0 and scanned < SCAN_LIMIT:
            page = self.store.pending(session, after, self.config.batch_size)
            if not page:
                break
            for change in page:
                after, scanned = change.seq, scanned + 1
                if change.key in blocked or free - len(jobs) <= 0:
                    continue
                blocked.add(change.key)  # later changes of this key wait for this one
                if change.action == "revoke":
                    jobs.append(Job("revoke", (change,)))
                    continue
                records.append(change)
                if len(records) == self.config.batch_size:
                    jobs.append(Job("record", tuple(records)))
                    records = []
        if records and free - len(jobs) > 0:
            jobs.append(Job("record", tuple(records)))
        return jobs

    # -- running a job -------------------------------------------------------------------------

    def _execute(self, job: Job) -> None:
        try:
            outcome = self._call_ledger(job)
            self._record(job, outcome)
        except Exception:
            # Not a ledger answer (those are outcomes): a bug or the database. The changes may
            # have been committed, so they are left in doubt and settled from the ledger later.
            log.exception("consent.outbox_job_failed", kind=job.kind, changes=len(job.changes))
            self._leave_in_doubt(job)
            self._pause()
        finally:
            with self._cond:
                self._inflight -= 1
                self._busy -= job.keys
                self._dirty = True
                self._cond.notify_all()
            self.waiters.notify(c.submission_id for c in job.changes)

    def _leave_in_doubt(self, job: Job) -> None:
        if job.kind == "settle":
            return  # still in doubt in the database
        try:
            with transaction(self.sessions) as session:
                self.store.mark_in_doubt(session, [c.seq for c in job.changes], None, 0)
        except Exception:
            # The process-restart recovery turns what is left `submitting` into doubts.
            log.exception("consent.outbox_cannot_mark_in_doubt", changes=len(job.changes))

    def _call_ledger(self, job: Job) -> Outcome:
        if job.kind == "record":
            return submit_records(self.ledger, job.changes)
        if job.kind == "revoke":
            return submit_revoke(self.ledger, job.changes[0])
        first = job.changes[0]
        return settle(
            self.ledger,
            job.changes,
            first.last_tx_id,
            first.doubt_checks,
            self.config.doubt_checks,
            self._attributed,
        )

    def _attributed(self, tx_id: str, key: Key) -> bool:
        with transaction(self.sessions) as session:
            return any(c.key == key for c in self.store.committed_in(session, tx_id))

    def _record(self, job: Job, outcome: Outcome) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            if outcome.committed:
                self.store.mark_committed(session, outcome.committed, now)
            for tx_id, block in outcome.blocks.items():
                self.store.save_transaction(session, tx_id, block, None)
            self.cache.write(session, outcome.permissions)
            if outcome.rejected:
                self.store.mark_rejected(session, outcome.rejected, now)
            self.store.mark_pending(session, outcome.retry)
            by_doubt: dict[tuple[str | None, int], list[int]] = {}
            for seq, doubt_tx, checks in outcome.doubtful:
                by_doubt.setdefault((doubt_tx, checks), []).append(seq)
            for (doubt_tx, checks), seqs in by_doubt.items():
                self.store.mark_in_doubt(session, seqs, doubt_tx, checks)
        self.cache.publish(outcome.permissions)
        self.totals["committed"] += len(outcome.committed)
        self.totals["rejected"] += len(outcome.rejected)
        self.totals["transactions"] += len(outcome.blocks)
        if outcome.failure is not None:
            self.totals["failures"] += 1
            log.warning(
                "consent.ledger_failed",
                kind=job.kind,
                error=str(outcome.failure),
                retry=len(outcome.retry),
                in_doubt=len(outcome.doubtful),
            )
            self._pause()
        else:
            self.backoff.reset()

    def _pause(self) -> None:
        delay = self.backoff.failed()
        with self._cond:
            self._paused_until = max(self._paused_until, time.monotonic() + delay)
