"""Public response models of the consent REST API (camelCase JSON) and their construction."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from medchain.consent.changes import Change
from medchain.consent.proofs import Proof
from medchain.consent.queries import CurrentConsent, HistoryStep
from medchain.consent.service import Submission


class Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class ChangePublic(Public):
    """One change of a submission and what became of it."""

    index: int = Field(description="Position in the request (FHIR: one per study or purpose)")
    study: str
    action: str = Field(description="record or revoke")
    decision: str | None
    state: str = Field(description="pending, submitting, in_doubt, committed or rejected")
    tx_id: str | None = None
    block_number: int | None = None
    ledger_version: int | None = None
    reason: str | None = Field(default=None, description="Why the ledger refused it")

    @classmethod
    def of(cls, change: Change) -> ChangePublic:
        return cls(
            index=change.position,
            study=change.study,
            action=change.action,
            decision=change.decision,
            state=change.state,
            tx_id=change.tx_id,
            block_number=change.block_number,
            ledger_version=change.ledger_version,
            reason=f"{change.reason_code}: {change.reason}" if change.reason_code else None,
        )


class SubmissionPublic(Public):
    """An accepted request: committed (201), still on its way (202), or as it stands."""

    id: str
    kind: str = Field(description="fhir, compact or revocation")
    state: str = Field(description="pending, committed, rejected or partial")
    received_at: dt.datetime
    status_url: str
    counts: dict[str, int]
    changes: list[ChangePublic]

    @classmethod
    def of(cls, submission: Submission) -> SubmissionPublic:
        counts = {"pending": 0, "committed": 0, "rejected": 0}
        for change in submission.changes:
            bucket = change.state if change.state in counts else "pending"
            counts[bucket] += 1
        return cls(
            id=submission.id,
            kind=submission.kind,
            state=submission.state,
            received_at=submission.received_at,
            status_url=status_url(submission.id),
            counts=counts,
            changes=[ChangePublic.of(c) for c in submission.changes],
        )


def status_url(submission_id: str) -> str:
    return f"/submissions/{submission_id}"


class ProofPublic(Public):
    """Where the consent's current state was written, and who endorsed that transaction."""

    tx_id: str
    block_number: int
    endorsing_orgs: list[str] = Field(
        description="MSP ids whose endorsements the committed transaction carries"
    )

    @classmethod
    def of(cls, proof: Proof) -> ProofPublic:
        return cls(
            tx_id=proof.tx_id,
            block_number=proof.block_number,
            endorsing_orgs=list(proof.endorsing_orgs),
        )


class PendingPublic(Public):
    """A change accepted here but not yet committed."""

    action: str
    decision: str | None
    state: str
    status_url: str


class ConsentPublic(Public):
    """A study's (or purpose's) consent as the ledger holds it now; null fields before the first
    commit."""

    study: str
    decision: str | None = None
    status: str | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    version: int | None = None
    document_hash: str | None = None
    recorded_at: dt.datetime | None = Field(default=None, description="Transaction timestamp")
    permits_now: bool = False
    proof: ProofPublic | None = None
    pending: list[PendingPublic] = []

    @classmethod
    def of(cls, current: CurrentConsent, now: dt.datetime) -> ConsentPublic:
        pending = [
            PendingPublic(
                action=c.action,
                decision=c.decision,
                state=c.state,
                status_url=status_url(c.submission_id),
            )
            for c in current.pending
        ]
        consent = current.consent
        if consent is None:
            return cls(study=current.study, pending=pending)
        return cls(
            study=current.study,
            decision=consent.decision,
            status=consent.status,
            valid_from=consent.valid_from,
            valid_until=consent.valid_until,
            version=consent.version,
            document_hash=consent.document_hash,
            recorded_at=consent.timestamp,
            permits_now=consent.permits(now),
            proof=ProofPublic.of(current.proof) if current.proof else None,
            pending=pending,
        )


class PatientConsentsPublic(Public):
    """A patient's consents, by pseudonym (the identifier never leaves the hospital)."""

    patient: str
    org: str
    consents: list[ConsentPublic]


class HistoryEntryPublic(Public):
    """One ledger write of a consent, oldest first per study."""

    study: str
    tx_id: str
    timestamp: dt.datetime
    is_delete: bool
    decision: str | None
    status: str | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    version: int | None
    document_hash: str | None
    proof: ProofPublic

    @classmethod
    def of(cls, step: HistoryStep) -> HistoryEntryPublic:
        consent = step.entry.consent
        return cls(
            study=step.study,
            tx_id=step.entry.tx_id,
            timestamp=step.entry.timestamp,
            is_delete=step.entry.is_delete,
            decision=consent.decision if consent else None,
            status=consent.status if consent else None,
            valid_from=consent.valid_from if consent else None,
            valid_until=consent.valid_until if consent else None,
            version=consent.version if consent else None,
            document_hash=consent.document_hash if consent else None,
            proof=ProofPublic.of(step.proof),
        )


class PatientHistoryPublic(Public):
    patient: str
    org: str
    history: list[HistoryEntryPublic]
