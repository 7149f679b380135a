"""The event follower: applies `ConsentRecorded` events to the permission cache, in ledger order.

For each consent event that touches this hospital's org, it needs the consents the transaction
wrote (the event carries no periods): those the outbox committed itself arrive by its write-through
(the chaincode's own result); for any other it reads the transaction from the peer (`qscc`). So
periods and versions always come from the ledger, whoever submitted the transaction. It resumes
from the checkpoint saved with the cache and, when the stream breaks or the peer is away,
reconnects with backoff until it is stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pydantic import ValidationError as PydanticValidationError

from medchain.common.logging import get_logger
from medchain.consent.backoff import Backoff
from medchain.consent.cache import Permission, PermissionCache
from medchain.consent.ledger_access import EventStream, LedgerAccess
from medchain.ledger import Checkpoint, ConsentRecorded, LedgerError
from medchain.ledger.events import ChaincodeEvent

EVENT_NAME = "ConsentRecorded"
#: Seconds between saves of the position when events bring nothing new to persist.
CHECKPOINT_EVERY = 2.0
#: Whether the outbox is committing any of these (pseudonym, study) keys right now.
InFlight = Callable[[set[tuple[str, str]]], bool]
log = get_logger(__name__)


class EventFollower:
    """A background thread that keeps a `PermissionCache` fresh from chaincode events."""

    def __init__(
        self,
        cache: PermissionCache,
        ledger: LedgerAccess,
        org: str,
        backoff: Backoff,
        in_flight: InFlight = lambda _keys: False,
        write_through_wait: float = 5.0,
    ) -> None:
        self.cache = cache
        self.ledger = ledger
        self.org = org
        self.backoff = backoff
        self.in_flight = in_flight
        self.write_through_wait = write_through_wait
        self.checkpoint: Checkpoint | None = None
        self.events_applied = 0
        self._stop = threading.Event()
        self._stream: EventStream | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._connected = False
        self._saved_at = 0.0
        self._unsaved: tuple[Checkpoint | None, int] | None = None

    @property
    def live(self) -> bool:
        """Whether the follower runs and its event stream is open."""
        return self._thread is not None and self._thread.is_alive() and self._connected

    def start(self, checkpoint: Checkpoint | None) -> None:
        """Follow events after `checkpoint` (None: from the first block)."""
        self.checkpoint = checkpoint
        self._thread = threading.Thread(target=self._run, name="consent-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the stream and wait for the thread."""
        self._stop.set()
        with self._lock:
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
                self._connected = False
                delay = self.backoff.failed()
                log.warning("consent.events_broken", error=str(exc), retry_in=round(delay, 2))
                self._stop.wait(delay)
        self._save_position()

    def _follow(self) -> None:
        stream = self.ledger.events(self.checkpoint)
        with self._lock:
            if self._stop.is_set():
                stream.close()
                return
            self._stream = stream
        self._connected = True
        with stream:
            for event in stream:
                self.apply(event, stream.checkpoint)
                self.checkpoint = stream.checkpoint
                self.backoff.reset()

    def apply(self, event: ChaincodeEvent, checkpoint: Checkpoint | None) -> None:
        """Apply one event; raises LedgerError when its transaction cannot be read."""
        if event.event_name != EVENT_NAME:
            return
        try:
            recorded = ConsentRecorded.model_validate_json(event.payload)
        except PydanticValidationError as exc:
            raise LedgerError(
                f"{EVENT_NAME} payload does not match docs/ledger-interface.md: {exc}",
                tx_id=event.tx_id,
            ) from exc
        versions = {
            (c.pseudonym, c.study): c.version for c in recorded.changes if c.org == self.org
        }
        lacking = self.cache.lacking(versions)
        if lacking and self.in_flight(set(lacking)):
            # The outbox is committing these itself and writes its results through: wait for
            # that rather than read the transaction back from the peer.
            deadline = time.monotonic() + self.write_through_wait
            while lacking and not self._stop.is_set() and time.monotonic() < deadline:
                self.cache.wait_for(lacking, 0.2)
                lacking = self.cache.lacking(lacking)
        permissions: list[Permission] = []
        if lacking:
            facts = self.ledger.transaction(event.tx_id)
            permissions = [
                Permission.from_consent(c)
                for c in facts.consents
                if c.org == self.org and (c.pseudonym, c.study) in lacking
            ]
        now = time.monotonic()
        if permissions or now - self._saved_at >= CHECKPOINT_EVERY:
            self.cache.save_event(permissions, checkpoint, event.block_number)
            self._saved_at, self._unsaved = now, None
        else:
            # Nothing new to persist (the outbox wrote these through): keep the database quiet
            # and save the position later; a restart from an older position only re-applies.
            self.cache.reached(event.block_number)
            self._unsaved = (checkpoint, event.block_number)
        self.events_applied += 1

    def _save_position(self) -> None:
        if self._unsaved is not None:
            checkpoint, block = self._unsaved
            self.cache.save_event([], checkpoint, block)
            self._unsaved = None
