"""Consent counts per hospital over the ledger's blocks, from `ConsentRecorded` events only.

Each consent (org, pseudonym, study) is in one state at a time: permitted, denied, or revoked.
After every block that changed a hospital's consents, the hospital's counts of each state are
recorded as one point of its timeline. Pseudonyms are kept in memory only to know which consent
a change replaces; nothing here ever hands one out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pydantic import ValidationError as PydanticValidationError

from medchain.common.logging import get_logger
from medchain.dashboard.ledger_reads import EventStream, LedgerReads
from medchain.ledger import Checkpoint, ConsentRecorded, LedgerError
from medchain.ledger.events import ChaincodeEvent

EVENT_NAME = "ConsentRecorded"
STATES = ("permit", "deny", "revoked")
log = get_logger(__name__)


@dataclass(frozen=True)
class ConsentCounts:
    """One hospital's consents by state, as of the end of one block."""

    block: int
    permit: int
    deny: int
    revoked: int

    @property
    def total(self) -> int:
        return self.permit + self.deny + self.revoked


def state_of(decision: str, status: str) -> str:
    """A consent's state: revoked whatever its decision, otherwise its decision."""
    return "revoked" if status == "revoked" else decision


class ConsentTally:
    """The current state of every consent and each hospital's timeline of counts (thread-safe)."""

    def __init__(self) -> None:
        self._states: dict[str, dict[tuple[str, str], str]] = {}
        self._timelines: dict[str, list[ConsentCounts]] = {}
        self._lock = threading.Lock()
        self.events_applied = 0
        self.last_block: int | None = None

    def apply(self, event: ChaincodeEvent) -> bool:
        """Count one event; False for events of other kinds. Raises LedgerError on bad JSON."""
        if event.event_name != EVENT_NAME:
            return False
        try:
            recorded = ConsentRecorded.model_validate_json(event.payload)
        except PydanticValidationError as exc:
            raise LedgerError(
                f"{EVENT_NAME} payload does not match docs/ledger-interface.md: {exc}",
                tx_id=event.tx_id,
            ) from exc
        with self._lock:
            touched: set[str] = set()
            for change in recorded.changes:
                states = self._states.setdefault(change.org, {})
                states[(change.pseudonym, change.study)] = state_of(change.decision, change.status)
                touched.add(change.org)
            for org in touched:
                self._record(org, event.block_number)
            self.events_applied += 1
            self.last_block = event.block_number
        return True

    def _record(self, org: str, block: int) -> None:
        values = list(self._states[org].values())
        point = ConsentCounts(
            block, values.count("permit"), values.count("deny"), values.count("revoked")
        )
        timeline = self._timelines.setdefault(org, [])
        if timeline and timeline[-1].block == block:
            timeline[-1] = point  # several transactions in one block: the block's end counts
        else:
            timeline.append(point)

    def orgs(self) -> list[str]:
        with self._lock:
            return sorted(self._timelines)

    def timeline(self, org: str) -> list[ConsentCounts]:
        with self._lock:
            return list(self._timelines.get(org, ()))


class ConsentFollower:
    """A background thread feeding a `ConsentTally` with chaincode events from block 0; after a
    broken stream it resumes from the checkpoint past the last event counted (none twice)."""

    def __init__(self, reads: LedgerReads, retry_delay: float = 2.0) -> None:
        self.reads = reads
        self.tally = ConsentTally()
        self.retry_delay = retry_delay
        self.error = ""
        self.connected = False
        self.checkpoint: Checkpoint | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream_lock = threading.Lock()
        self._stream: EventStream | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start following (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="dashboard-consents", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._stream_lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except LedgerError as exc:
                self.error = exc.message
                log.warning("dashboard.consent_events_broken", error=exc.message)
            self.connected = False
            # A stream that ended or broke is opened again, after the checkpoint, a bit later.
            self._stop.wait(self.retry_delay)

    def _follow(self) -> None:
        stream = self.reads.events(self.checkpoint)
        with self._stream_lock:
            if self._stop.is_set():
                stream.close()
                return
            self._stream = stream
        self.connected = True
        self.error = ""
        with stream:
            for event in stream:
                self.tally.apply(event)
                self.checkpoint = stream.checkpoint
