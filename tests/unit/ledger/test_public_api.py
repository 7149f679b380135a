"""`medchain.ledger` exports exactly its public API, and every name in it resolves."""

from __future__ import annotations

import medchain.ledger as ledger

PUBLIC_API = {
    # connecting
    "ConnectionProfile",
    "connect",
    "connect_async",
    "Gateway",
    "Network",
    "Contract",
    "AsyncGateway",
    "AsyncNetwork",
    "AsyncContract",
    "ChannelCache",
    "Deadlines",
    "RetryPolicy",
    "DEFAULT_MVCC_RETRY",
    # identity
    "Identity",
    "Signer",
    "load_identity",
    # results and events
    "SubmitResult",
    "CommitStatus",
    "Committed",
    "ChaincodeEvent",
    "ChaincodeEventStream",
    "AsyncChaincodeEventStream",
    "Checkpoint",
    # errors
    "LedgerError",
    "IdentityError",
    "EndorseError",
    "ChaincodeError",
    "ChaincodeInvalidArgument",
    "ChaincodePermissionDenied",
    "ChaincodeNotFound",
    "ChaincodeConflict",
    "ChaincodePreconditionFailed",
    "SubmitError",
    "CommitStatusError",
    "CommitError",
    "LedgerTimeout",
    "LedgerUnavailable",
    "PeerErrorDetail",
    # consent contract
    "ConsentLedger",
    "ConsentInput",
    "Consent",
    "ConsentBatch",
    "ConsentHistoryEntry",
    "FilterResult",
    "ConsentChange",
    "ConsentRecorded",
    # study contract
    "StudyLedger",
    "StudyInput",
    "Study",
    "Coordinator",
    "UpdateInput",
    "Update",
    "RoundCommit",
    "Round",
    "Lineage",
    "LineageStep",
    "StudyCreated",
    "RoundOpened",
    "UpdateSubmitted",
    "RoundCommitted",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(ledger.__all__) == PUBLIC_API
    assert len(ledger.__all__) == len(PUBLIC_API)


def test_every_exported_name_exists() -> None:
    missing = [name for name in ledger.__all__ if not hasattr(ledger, name)]
    assert missing == []
