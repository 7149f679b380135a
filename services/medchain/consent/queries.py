"""Reads answered by the ledger: a patient's current consents and history with proofs, filters.

The ledger is the authority: decisions come from the chaincode's Get and History, never from the
local copy; the local database only says which studies a patient has consents for, what is still
on its way (pending), and caches proofs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.consent.changes import Change
from medchain.consent.errors import ConsentNotFoundError
from medchain.consent.ledger_access import LedgerAccess
from medchain.consent.proofs import Proof, ProofLookup
from medchain.consent.store import ConsentStore
from medchain.ledger import ChaincodeNotFound, Consent, ConsentHistoryEntry
from medchain.ledger.consent import MAX_FILTER_PSEUDONYMS


@dataclass(frozen=True, slots=True)
class CurrentConsent:
    """A study's consent as the ledger holds it now, its proof, and changes not yet committed."""

    study: str
    consent: Consent | None
    proof: Proof | None
    pending: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class HistoryStep:
    """One write of a study's consent on the ledger, with its proof."""

    study: str
    entry: ConsentHistoryEntry
    proof: Proof


@dataclass(frozen=True, slots=True)
class FilterQuery:
    """Which of `pseudonyms` may `study` use now; `min_block_height` 0 accepts the cache as is."""

    study: str
    pseudonyms: list[str]
    from_ledger: bool = False
    min_block_height: int = 0


@dataclass(frozen=True, slots=True)
class FilterAnswer:
    """Permitted pseudonyms in request order, the height reflected, and where it came from."""

    study: str
    permitted: list[str]
    block_height: int
    as_of: dt.datetime
    source: str


class ConsentQueries:
    """Ledger reads for one hospital's org."""

    def __init__(
        self,
        org: str,
        store: ConsentStore,
        sessions: sessionmaker[Session],
        ledger: LedgerAccess,
        proofs: ProofLookup,
    ) -> None:
        self.org = org
        self.store = store
        self.sessions = sessions
        self.ledger = ledger
        self.proofs = proofs

    def _studies(self, pseudonym: str) -> tuple[list[str], list[Change]]:
        with transaction(self.sessions) as session:
            studies = self.store.studies_of(session, pseudonym)
            open_changes = self.store.open_changes_of(session, pseudonym, None)
        if not studies:
            raise ConsentNotFoundError("this service has recorded no consent for the patient")
        return studies, open_changes

    def current(self, pseudonym: str) -> list[CurrentConsent]:
        """Every study of the patient: the ledger's consent (None before the first commit)."""
        studies, open_changes = self._studies(pseudonym)
        found = []
        for study in studies:
            try:
                consent: Consent | None = self.ledger.get(self.org, pseudonym, study)
            except ChaincodeNotFound:
                consent = None
            proof = self.proofs.proof(consent.tx_id) if consent is not None else None
            pending = tuple(c for c in open_changes if c.study == study)
            found.append(CurrentConsent(study, consent, proof, pending))
        return found

    def history(self, pseudonym: str) -> list[HistoryStep]:
        """Every ledger write of every study of the patient, oldest first per study."""
        studies, _ = self._studies(pseudonym)
        steps = []
        for study in studies:
            for entry in self.ledger.history(self.org, pseudonym, study):
                steps.append(HistoryStep(study, entry, self.proofs.proof(entry.tx_id)))
        return steps

    def filter_from_ledger(self, study: str, pseudonyms: Sequence[str]) -> FilterAnswer:
        """FilterPermitted on the peer, in chunks; the height is read first, so it is a lower
        bound of what the answer reflects."""
        height = self.ledger.height()
        permitted: list[str] = []
        as_of: dt.datetime | None = None
        for start in range(0, len(pseudonyms), MAX_FILTER_PSEUDONYMS):
            chunk = pseudonyms[start : start + MAX_FILTER_PSEUDONYMS]
            result = self.ledger.filter_permitted(self.org, study, chunk)
            permitted += result.permitted
            as_of = as_of or result.as_of
        if as_of is None:  # nothing asked: no evaluation happened
            as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return FilterAnswer(study, permitted, height, as_of, "ledger")
