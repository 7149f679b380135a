"""`StudyLedger`: the `study` contract of chaincode `medchain` as typed calls and models."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, TypeAdapter, model_validator

from medchain.ledger.gateway import Contract, Network
from medchain.ledger.policy import DEFAULT_MVCC_RETRY, RetryPolicy
from medchain.ledger.schema import (
    Committed,
    Hex64,
    Identifier,
    LedgerInput,
    LedgerRecord,
    LedgerTime,
    Metrics,
    MspId,
    OptionalLedgerTime,
    TypedContract,
)

CHAINCODE = "medchain"
CONTRACT = "study"

StudyStatus = Literal["created", "running", "completed"]
RoundStatus = Literal["open", "committed"]


class StudyInput(LedgerInput):
    """A federated study as its coordinator defines it."""

    id: Identifier
    spec_hash: Hex64
    participants: list[MspId] = Field(min_length=1)
    rounds: int = Field(ge=1)
    min_participants: int = Field(ge=1)
    epsilon: float = Field(ge=0, allow_inf_nan=False)  # 0 means no privacy budget
    delta: float = Field(ge=0, lt=1)
    strategy: str = Field(min_length=1, max_length=128, pattern=r"^[\x20-\x7e]+$")
    initial_model_hash: Hex64

    @model_validator(mode="after")
    def _participants_fit(self) -> Self:
        if len(set(self.participants)) != len(self.participants):
            raise ValueError("participants must be unique")
        if self.min_participants > len(self.participants):
            raise ValueError("min_participants cannot exceed the number of participants")
        return self


class Coordinator(LedgerRecord):
    """Who created a study: MSP id and x509 client id."""

    msp_id: str
    id: str


class Study(LedgerRecord):
    """A study as stored; `tx_id` and `timestamp` name the last transaction that changed it."""

    id: str
    spec_hash: str
    participants: list[str]
    rounds: int
    min_participants: int
    epsilon: float
    delta: float
    strategy: str
    initial_model_hash: str
    coordinator: Coordinator
    joined: list[str]
    status: StudyStatus
    current_round: int
    current_model_hash: str
    privacy_spent: float
    tx_id: str
    timestamp: LedgerTime


class UpdateInput(LedgerInput):
    """One organisation's model update for a round: hashes and counts, never weights."""

    study_id: Identifier
    round: int = Field(ge=1)
    update_hash: Hex64
    sample_count: int = Field(ge=0)
    cohort_root: Hex64
    cohort_size: int = Field(ge=0)
    privacy_spent: float = Field(ge=0, allow_inf_nan=False)
    metrics: Metrics = Field(default_factory=dict)


class Update(LedgerRecord):
    """An update as stored in its round."""

    org: str
    update_hash: str
    sample_count: int
    cohort_root: str
    cohort_size: int
    privacy_spent: float
    metrics: dict[str, float]
    tx_id: str
    timestamp: LedgerTime


class RoundCommit(LedgerInput):
    """The coordinator's closing of a round: the aggregated model and whose updates made it."""

    study_id: Identifier
    round: int = Field(ge=1)
    model_hash: Hex64
    included: list[MspId]
    metrics: Metrics = Field(default_factory=dict)
    privacy_spent: float = Field(ge=0, allow_inf_nan=False)


class Round(LedgerRecord):
    """A round with every update submitted to it; model and commit fields empty while open."""

    study_id: str
    round: int
    status: RoundStatus
    opened_tx_id: str
    opened_at: LedgerTime
    updates: dict[str, Update]
    model_hash: str
    parent_model_hash: str
    included: list[str]
    metrics: dict[str, float]
    privacy_spent: float
    committed_tx_id: str
    committed_at: OptionalLedgerTime


class LineageStep(LedgerRecord):
    """One committed round on the way to a model; `updates` maps org -> update hash."""

    round: int
    model_hash: str
    parent_model_hash: str
    included: list[str]
    updates: dict[str, str]
    tx_id: str


class Lineage(LedgerRecord):
    """The committed rounds that led to a model, newest first, ending at the initial model."""

    model_hash: str
    study_id: str
    steps: list[LineageStep]


class StudyCreated(LedgerRecord):
    """Payload of the `StudyCreated` event."""

    study_id: str
    tx_id: str


class RoundOpened(LedgerRecord):
    """Payload of the `RoundOpened` event."""

    study_id: str
    round: int
    tx_id: str


class UpdateSubmitted(LedgerRecord):
    """Payload of the `UpdateSubmitted` event."""

    study_id: str
    round: int
    org: str
    update_hash: str
    tx_id: str


class RoundCommitted(LedgerRecord):
    """Payload of the `RoundCommitted` event."""

    study_id: str
    round: int
    model_hash: str
    included: list[str]
    tx_id: str


_STUDY = TypeAdapter(Study)
_STUDIES = TypeAdapter(list[Study])
_ROUND = TypeAdapter(Round)
_UPDATE = TypeAdapter(Update)
_LINEAGE = TypeAdapter(Lineage)


class StudyLedger:
    """Run a federated study on the ledger. Writes retry MVCC conflicts (see `RetryPolicy`).

    Retrying is safe for every write here: a conflicting transaction changed nothing, and the
    chaincode's once-only rules (join once, one update per org and round) still hold on rerun.
    """

    def __init__(self, contract: Contract, *, retry: RetryPolicy | None = DEFAULT_MVCC_RETRY):
        self._calls = TypedContract(contract, CONTRACT, retry)

    @classmethod
    def for_network(
        cls,
        network: Network,
        chaincode: str = CHAINCODE,
        *,
        retry: RetryPolicy | None = DEFAULT_MVCC_RETRY,
    ) -> StudyLedger:
        """The study contract of `chaincode` on a channel."""
        return cls(network.get_contract(chaincode, CONTRACT), retry=retry)

    def wait_until_committed(self, tx_id: str) -> None:
        """Block until transaction `tx_id` is committed on this client's own peer.

        Another party's write (a study created, a round opened, an update submitted through
        another hospital's peer) reaches each peer a moment apart; reading after this wait sees it.
        """
        self._calls.contract.network.commit_status(tx_id)

    def create_study(self, study: StudyInput) -> Committed[Study]:
        """Define a study; the caller becomes its coordinator."""
        return self._calls.submit(_STUDY, "CreateStudy", study.to_arg())

    def join_study(self, study_id: str) -> Committed[Study]:
        """Join as the caller's organisation, which must be a participant."""
        return self._calls.submit(_STUDY, "JoinStudy", study_id)

    def open_round(self, study_id: str, round_number: int) -> Committed[Round]:
        """Open the next round (coordinator only)."""
        return self._calls.submit(_ROUND, "OpenRound", study_id, str(round_number))

    def submit_update(self, update: UpdateInput) -> Committed[Update]:
        """Record the caller's organisation's update for an open round."""
        return self._calls.submit(_UPDATE, "SubmitUpdate", update.to_arg())

    def commit_round(self, commit: RoundCommit) -> Committed[Round]:
        """Close a round with its aggregated model (coordinator only)."""
        return self._calls.submit(_ROUND, "CommitRound", commit.to_arg())

    def get_study(self, study_id: str) -> Study:
        """One study; `ChaincodeNotFound` if there is none."""
        return self._calls.evaluate(_STUDY, "GetStudy", study_id)

    def list_studies(self) -> list[Study]:
        """Every study, sorted by id."""
        return self._calls.evaluate(_STUDIES, "ListStudies")

    def get_round(self, study_id: str, round_number: int) -> Round:
        """One round of a study, with its updates."""
        return self._calls.evaluate(_ROUND, "GetRound", study_id, str(round_number))

    def model_lineage(self, model_hash: str) -> Lineage:
        """How a model came to be, newest round first."""
        return self._calls.evaluate(_LINEAGE, "ModelLineage", model_hash)
