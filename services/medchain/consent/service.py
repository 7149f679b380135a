"""The consent logic: accept consents and revocations, report their fate, answer from the ledger.

No transport code here: the REST routes and the gRPC servicer translate to and from these calls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.common.fhir import IssueType, error
from medchain.consent import intake
from medchain.consent.cache import PermissionCache
from medchain.consent.changes import FINAL_STATES, Change, NewChange
from medchain.consent.errors import (
    ChangeRejectedError,
    ConsentNotFoundError,
    InvalidConsentError,
)
from medchain.consent.fhir_consent import PURPOSE_PREFIX, PURPOSES, study_problem
from medchain.consent.follower import EventFollower
from medchain.consent.intake import Accepted
from medchain.consent.ledger_access import LedgerAccess
from medchain.consent.outbox import Outbox
from medchain.consent.proofs import ProofLookup
from medchain.consent.queries import ConsentQueries, CurrentConsent, FilterAnswer, HistoryStep
from medchain.consent.settings import ConsentSettings
from medchain.consent.store import ConsentStore
from medchain.consent.waiters import CommitWaiters
from medchain.ingest.pseudonyms import Pseudonymizer, is_pseudonym
from medchain.ledger import ChaincodeNotFound, LedgerError


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Submission:
    """One accepted request and the state of each of its changes."""

    id: str
    kind: str
    received_at: dt.datetime
    changes: tuple[Change, ...]

    @property
    def state(self) -> str:
        """pending (something open), committed, rejected, or partial (some of each)."""
        states = {c.state for c in self.changes}
        if not states <= FINAL_STATES:
            return "pending"
        return states.pop() if len(states) == 1 else "partial"

    @property
    def final(self) -> bool:
        return self.state != "pending"

    def raise_for_rejections(self) -> None:
        """ChangeRejectedError naming every rejected change, if any was rejected."""
        rejected = [c for c in self.changes if c.state == "rejected"]
        if not rejected:
            return
        issues = [
            error(
                IssueType.FORBIDDEN
                if c.reason_code == "PERMISSION_DENIED"
                else IssueType.PROCESSING,
                f"{c.reason_code}: {c.reason}",
                f"changes[{c.position}]",
            )
            for c in rejected
        ]
        committed = sum(c.state == "committed" for c in self.changes)
        if committed:
            issues.append(
                error(IssueType.INFORMATIONAL, f"{committed} other change(s) were committed")
            )
        raise ChangeRejectedError(
            f"the ledger refused {len(rejected)} change(s)", issues, str(rejected[0].reason_code)
        )


class ConsentService:
    """Consents of one hospital: stored locally first, recorded on the ledger by the outbox."""

    def __init__(
        self,
        settings: ConsentSettings,
        sessions: sessionmaker[Session],
        ledger: LedgerAccess,
        outbox: Outbox,
        cache: PermissionCache,
        follower: EventFollower,
        waiters: CommitWaiters,
        clock: Callable[[], dt.datetime] = utc_now,
        closers: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.ledger = ledger
        self.outbox = outbox
        self.cache = cache
        self.follower = follower
        self.waiters = waiters
        self.clock = clock
        self.org = settings.msp_id
        self.store: ConsentStore = outbox.store
        self.pseudonymize = Pseudonymizer(settings.secret_key)
        self.proofs = ProofLookup(self.store, sessions, ledger)
        self.queries = ConsentQueries(self.org, self.store, sessions, ledger, self.proofs)
        self._closers = list(closers)

    def start(self) -> None:
        """Load the permission cache, follow events from its checkpoint, start the outbox."""
        self.follower.start(self.cache.load())
        self.outbox.start()

    def stop(self) -> None:
        """Stop the outbox (running jobs finish) and the follower, then close the ledger."""
        self.outbox.stop()
        self.follower.stop()
        for close in self._closers:
            close()

    # -- accepting ------------------------------------------------------------------------------

    def accept_fhir(self, body: bytes, client: str) -> Accepted:
        """Validate and store a FHIR Consent; its changes are queued for the ledger."""
        document, changes = intake.fhir_documents(body, self.pseudonymize)
        return self._store("fhir", client, [document], changes)

    def accept_compact(self, body: bytes, client: str) -> Accepted:
        """Validate and store a compact batch (every item or nothing)."""
        limit = self.settings.max_changes_per_request
        documents, changes = intake.compact_documents(body, self.pseudonymize, limit)
        return self._store("compact", client, documents, changes)

    def accept_revocation(self, patient: str, study: str, client: str) -> Accepted:
        """Queue the revocation of a recorded consent; 404 when neither this service nor the
        ledger knows the consent."""
        pseudonym = self.resolve_patient(patient)
        check_study_key(study)
        with transaction(self.sessions) as session:
            known = self.store.has_change(session, pseudonym, study)
        if not known:
            try:
                self.ledger.get(self.org, pseudonym, study)
            except ChaincodeNotFound as exc:
                raise ConsentNotFoundError(f"no consent of this patient for {study!r}") from exc
        document = intake.revocation_document(self.org, pseudonym, study, client, self.clock())
        changes = [NewChange(pseudonym, study, "revoke", None, None, None, 0)]
        return self._store("revocation", client, [document], changes)

    def _store(
        self,
        kind: str,
        client: str,
        documents: Sequence[intake.Document],
        changes: Sequence[NewChange],
    ) -> Accepted:
        accepted = intake.store_request(
            self.store,
            self.sessions,
            kind=kind,
            org=self.org,
            client=client,
            documents=documents,
            changes=changes,
            now=self.clock(),
        )
        self.outbox.nudge()
        return accepted

    # -- following a submission -----------------------------------------------------------------

    def submission(self, submission_id: str) -> Submission:
        with transaction(self.sessions) as session:
            row = self.store.submission(session, submission_id)
            if row is None:
                raise ConsentNotFoundError(f"no submission {submission_id!r}")
            changes = self.store.submission_changes(session, submission_id)
        received = row.received_at.replace(tzinfo=dt.UTC)
        return Submission(row.id, row.kind, received, tuple(changes))

    async def wait_for_commit(self, submission_id: str, timeout: float) -> Submission:
        """The submission once every change is final, or as it stands when `timeout` runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            woken = self.waiters.register(submission_id)
            try:
                still_open = await asyncio.to_thread(self._open_count, submission_id)
                remaining = deadline - loop.time()
                if not still_open or remaining <= 0:
                    return await asyncio.to_thread(self.submission, submission_id)
                try:
                    await asyncio.wait_for(woken, remaining)
                except TimeoutError:
                    continue
            finally:
                self.waiters.discard(submission_id, woken)

    def _open_count(self, submission_id: str) -> int:
        with transaction(self.sessions) as session:
            return self.store.open_count(session, submission_id)

    def fhir_document(self, document_id: str) -> dict[str, object]:
        """A stored FHIR Consent as stored."""
        with transaction(self.sessions) as session:
            row = self.store.document(session, document_id)
            content = None if row is None or row.kind != "fhir" else row.content
        if content is None:
            raise ConsentNotFoundError(f"Consent/{document_id} is not stored")
        stored: dict[str, object] = json.loads(content)
        return stored

    # -- reading ----------------------------------------------------------------------------------

    def resolve_patient(self, patient: str) -> str:
        """A pseudonym from `system|value` (pseudonymized here) or from a pseudonym itself."""
        if is_pseudonym(patient):
            return patient
        system, bar, value = patient.partition("|")
        if not bar or not system or not value:
            raise InvalidConsentError(
                "a patient is `system|value` (an identifier) or a 64-hex pseudonym",
                [error(IssueType.VALUE, "expected system|value or a pseudonym", "patient")],
            )
        return self.pseudonymize(system, value)

    def current(self, patient: str) -> tuple[str, list[CurrentConsent]]:
        """The patient's pseudonym and current consent per study, from the ledger."""
        pseudonym = self.resolve_patient(patient)
        return pseudonym, self.queries.current(pseudonym)

    def history(self, patient: str) -> tuple[str, list[HistoryStep]]:
        """The patient's pseudonym and every ledger write of their consents."""
        pseudonym = self.resolve_patient(patient)
        return pseudonym, self.queries.history(pseudonym)

    def filter_permitted(
        self, study: str, pseudonyms: Sequence[str], from_ledger: bool, min_height: int
    ) -> FilterAnswer:
        """Those of `pseudonyms` whose consent permits `study` now: from the cache when it is
        live and reflects `min_height`, else from the ledger."""
        check_study_key(study)
        bad = next((i for i, p in enumerate(pseudonyms) if not is_pseudonym(p)), None)
        if bad is not None:
            raise InvalidConsentError(
                "pseudonyms are 64 lower-case hex characters",
                [error(IssueType.VALUE, "not a pseudonym", f"pseudonyms[{bad}]")],
            )
        height = self.cache.height
        if not from_ledger and self.follower.live and height > 0 and height >= min_height:
            now = self.clock().replace(microsecond=0)
            return FilterAnswer(
                study, self.cache.filter(study, pseudonyms, now), height, now, "cache"
            )
        return self.queries.filter_from_ledger(study, pseudonyms)

    def healthy_ledger(self) -> bool:
        """Whether the peer answers (a channel height read)."""
        try:
            return self.ledger.height() > 0
        except LedgerError:
            return False


def check_study_key(study: str) -> None:
    """A study id or `purpose:<code>`; InvalidConsentError otherwise."""
    if study.startswith(PURPOSE_PREFIX):
        problem = None if study[len(PURPOSE_PREFIX) :] in PURPOSES else "unknown purpose code"
    else:
        problem = study_problem(study)
    if problem:
        raise InvalidConsentError(problem, [error(IssueType.VALUE, problem, "study")])
