"""Ledger proofs of committed consents: transaction id, block number and endorsing organisations.

The chaincode does not record endorsers, but the committed transaction carries the endorsements:
they are read once from the peer (`qscc` GetTransactionByID) and kept with the block number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from medchain.common.db import transaction
from medchain.consent.ledger_access import LedgerAccess
from medchain.consent.store import ConsentStore


@dataclass(frozen=True, slots=True)
class Proof:
    """Where a consent's write lives on the ledger and which organisations endorsed it."""

    tx_id: str
    block_number: int
    endorsing_orgs: tuple[str, ...]


class ProofLookup:
    """Proofs by transaction id, read from the ledger once and then from the database."""

    def __init__(
        self, store: ConsentStore, sessions: sessionmaker[Session], ledger: LedgerAccess
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.ledger = ledger

    def proof(self, tx_id: str) -> Proof:
        """The proof of a committed transaction; ledger errors propagate."""
        with transaction(self.sessions) as session:
            row = self.store.transaction(session, tx_id)
            known = None if row is None else (row.block_number, row.endorsers)
        if known is not None and known[1] is not None:
            return Proof(tx_id, known[0], tuple(json.loads(known[1])))
        block = known[0] if known is not None else self.ledger.commit_status(tx_id).block_number
        endorsers = self.ledger.transaction(tx_id).endorsers
        with transaction(self.sessions) as session:
            self.store.save_transaction(session, tx_id, block, endorsers)
        return Proof(tx_id, block, endorsers)
