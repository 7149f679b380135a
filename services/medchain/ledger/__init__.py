"""MedChain's Fabric Gateway client: connect, submit and evaluate, follow events, typed contracts.

    profile = ConnectionProfile(peer_endpoint="127.0.0.1:7051", ...)
    with connect(profile) as gateway:
        network = gateway.get_network("medchain")
        consents = ConsentLedger.for_network(network)
        done = consents.record(ConsentInput(...))      # Committed[Consent]: value, tx_id, block
        for event in network.chaincode_events("medchain", checkpoint=saved):
            ...

`medchain.ledger.aio` has the same client for asyncio (`AsyncGateway`, `await contract.submit`).
"""

from medchain.ledger.aio import AsyncContract, AsyncGateway, AsyncNetwork
from medchain.ledger.channels import ChannelCache
from medchain.ledger.connection import ConnectionProfile, connect, connect_async
from medchain.ledger.consent import (
    Consent,
    ConsentBatch,
    ConsentChange,
    ConsentHistoryEntry,
    ConsentInput,
    ConsentLedger,
    ConsentRecorded,
    FilterResult,
)
from medchain.ledger.errors import (
    ChaincodeConflict,
    ChaincodeError,
    ChaincodeInvalidArgument,
    ChaincodeNotFound,
    ChaincodePermissionDenied,
    ChaincodePreconditionFailed,
    CommitError,
    CommitStatusError,
    EndorseError,
    IdentityError,
    LedgerError,
    LedgerTimeout,
    LedgerUnavailable,
    PeerErrorDetail,
    SubmitError,
)
from medchain.ledger.events import (
    AsyncChaincodeEventStream,
    ChaincodeEvent,
    ChaincodeEventStream,
    Checkpoint,
)
from medchain.ledger.gateway import Contract, Gateway, Network
from medchain.ledger.identity import Identity, Signer, load_identity
from medchain.ledger.policy import DEFAULT_MVCC_RETRY, Deadlines, RetryPolicy
from medchain.ledger.results import CommitStatus, SubmitResult
from medchain.ledger.schema import Committed
from medchain.ledger.study import (
    Coordinator,
    Lineage,
    LineageStep,
    Round,
    RoundCommit,
    RoundCommitted,
    RoundOpened,
    Study,
    StudyCreated,
    StudyInput,
    StudyLedger,
    Update,
    UpdateInput,
    UpdateSubmitted,
)

__all__ = [
    "DEFAULT_MVCC_RETRY",
    "AsyncChaincodeEventStream",
    "AsyncContract",
    "AsyncGateway",
    "AsyncNetwork",
    "ChaincodeConflict",
    "ChaincodeError",
    "ChaincodeEvent",
    "ChaincodeEventStream",
    "ChaincodeInvalidArgument",
    "ChaincodeNotFound",
    "ChaincodePermissionDenied",
    "ChaincodePreconditionFailed",
    "ChannelCache",
    "Checkpoint",
    "CommitError",
    "CommitStatus",
    "CommitStatusError",
    "Committed",
    "ConnectionProfile",
    "Consent",
    "ConsentBatch",
    "ConsentChange",
    "ConsentHistoryEntry",
    "ConsentInput",
    "ConsentLedger",
    "ConsentRecorded",
    "Contract",
    "Coordinator",
    "Deadlines",
    "EndorseError",
    "FilterResult",
    "Gateway",
    "Identity",
    "IdentityError",
    "LedgerError",
    "LedgerTimeout",
    "LedgerUnavailable",
    "Lineage",
    "LineageStep",
    "Network",
    "PeerErrorDetail",
    "RetryPolicy",
    "Round",
    "RoundCommit",
    "RoundCommitted",
    "RoundOpened",
    "Signer",
    "Study",
    "StudyCreated",
    "StudyInput",
    "StudyLedger",
    "SubmitError",
    "SubmitResult",
    "Update",
    "UpdateInput",
    "UpdateSubmitted",
    "connect",
    "connect_async",
    "load_identity",
]
