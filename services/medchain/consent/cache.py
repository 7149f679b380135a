"""The permission cache: this hospital's consent keys as the ledger holds them, for fast filters.

Built from the ledger and kept fresh two ways: the outbox writes through what its own transactions
committed, in the transaction that marks them committed (so a revocation leaves the filter the
moment it commits), and the event follower applies every `ConsentRecorded` event, persisting what
it learnt with its checkpoint in one database transaction (after a crash it resumes from there and
reads again whatever it lacks). No update replaces a newer version of a key.
`height` is a lower bound: every consent change committed in a block below it is reflected.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.consent.store import ConsentStore
from medchain.consent.tables import from_db, to_db
from medchain.ledger import Checkpoint, Consent

CHECKPOINT_NAME = "consent-events"


@dataclass(frozen=True, slots=True)
class Permission:
    """The ledger's consent for one (pseudonym, study) key of this hospital."""

    pseudonym: str
    study: str
    decision: str
    status: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    version: int
    tx_id: str

    @classmethod
    def from_consent(cls, consent: Consent) -> Permission:
        return cls(
            consent.pseudonym,
            consent.study,
            consent.decision,
            consent.status,
            consent.valid_from,
            consent.valid_until,
            consent.version,
            consent.tx_id,
        )

    def permits(self, at: dt.datetime) -> bool:
        """The chaincode's rule: active, permit, and `valid_from <= at < valid_until`."""
        return (
            self.status == "active"
            and self.decision == "permit"
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "pseudonym": self.pseudonym,
            "study": self.study,
            "decision": self.decision,
            "status": self.status,
            "valid_from": to_db(self.valid_from),
            "valid_until": to_db(self.valid_until),
            "version": self.version,
            "tx_id": self.tx_id,
        }


class PermissionCache:
    """Permissions by study and pseudonym, in memory and persisted; safe across threads."""

    def __init__(self, store: ConsentStore, sessions: sessionmaker[Session]) -> None:
        self.store = store
        self.sessions = sessions
        self._by_study: dict[str, dict[str, Permission]] = {}
        self._height = 0
        self._lock = threading.Lock()
        self._published = threading.Condition(self._lock)

    def load(self) -> Checkpoint | None:
        """Read the persisted cache; return the event checkpoint to resume from (None: start)."""
        with transaction(self.sessions) as session:
            loaded = [
                Permission(
                    r.pseudonym,
                    r.study,
                    r.decision,
                    r.status,
                    r.valid_from.replace(tzinfo=dt.UTC),
                    from_db(r.valid_until),
                    r.version,
                    r.tx_id,
                )
                for r in self.store.permissions(session)
            ]
            saved = self.store.checkpoint(session, CHECKPOINT_NAME)
        checkpoint = Checkpoint.model_validate_json(saved) if saved else None
        with self._lock:
            self._by_study = {}
            self._height = checkpoint.block_number if checkpoint else 0
        self.publish(loaded)
        return checkpoint

    @property
    def height(self) -> int:
        """Every consent change committed in a block below this height is reflected."""
        with self._lock:
            return self._height

    def write(self, session: Session, permissions: Sequence[Permission]) -> None:
        """Persist permissions in the caller's transaction (newer versions only)."""
        if permissions:
            self.store.upsert_permissions(session, [p.as_row() for p in permissions])

    def publish(self, permissions: Iterable[Permission]) -> None:
        """Make permissions visible to filters (newer versions only)."""
        with self._lock:
            for permission in permissions:
                keys = self._by_study.setdefault(permission.study, {})
                current = keys.get(permission.pseudonym)
                if current is None or current.version < permission.version:
                    keys[permission.pseudonym] = permission
            self._published.notify_all()

    def save_event(
        self, permissions: Sequence[Permission], checkpoint: Checkpoint | None, block: int
    ) -> None:
        """Apply one event: persist its permissions and the checkpoint together, then publish
        them; blocks below `block` are now complete."""
        with transaction(self.sessions) as session:
            self.write(session, permissions)
            if checkpoint is not None:
                self.store.save_checkpoint(session, CHECKPOINT_NAME, checkpoint.model_dump_json())
        self.publish(permissions)
        with self._lock:
            self._height = max(self._height, block)

    def reached(self, block: int) -> None:
        """Blocks below `block` are complete (an event applied without anything to persist)."""
        with self._lock:
            self._height = max(self._height, block)

    def _lacks(self, key: tuple[str, str], version: int) -> bool:
        entry = self._by_study.get(key[1], {}).get(key[0])
        return entry is None or entry.version < version

    def lacking(self, versions: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
        """Those (pseudonym, study) keys whose cached version is below the one given."""
        with self._lock:
            return {k: v for k, v in versions.items() if self._lacks(k, v)}

    def wait_for(self, versions: dict[tuple[str, str], int], timeout: float) -> bool:
        """Wait until every key has at least its version (True) or `timeout` passes (False)."""
        with self._published:
            return self._published.wait_for(
                lambda: not any(self._lacks(k, v) for k, v in versions.items()), timeout
            )

    def get(self, pseudonym: str, study: str) -> Permission | None:
        with self._lock:
            return self._by_study.get(study, {}).get(pseudonym)

    def filter(self, study: str, pseudonyms: Sequence[str], at: dt.datetime) -> list[str]:
        """Those of `pseudonyms` whose consent permits `study` at `at`, in input order."""
        with self._lock:
            keys = self._by_study.get(study, {})
            return [p for p in pseudonyms if (e := keys.get(p)) is not None and e.permits(at)]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(keys) for keys in self._by_study.values())
