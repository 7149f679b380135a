"""Every error the ledger client raises, in one tree rooted in `MedChainError`.

    MedChainError
    └── LedgerError                     anything that went wrong talking to the ledger
        ├── IdentityError               MSP material unusable (also ConfigurationError)
        ├── EndorseError                the peers refused the proposal (endorse or evaluate)
        │   └── ChaincodeError          the chaincode itself refused, with a coded message
        │       ├── ChaincodeInvalidArgument     INVALID_ARGUMENT   (also ValidationError)
        │       ├── ChaincodePermissionDenied    PERMISSION_DENIED  (also PermissionDeniedError)
        │       ├── ChaincodeNotFound            NOT_FOUND          (also NotFoundError)
        │       ├── ChaincodeConflict            CONFLICT           (also ConflictError)
        │       └── ChaincodePreconditionFailed  FAILED_PRECONDITION (also ConflictError)
        ├── SubmitError                 the orderer did not accept the endorsed transaction
        ├── CommitStatusError           the transaction was sent but its fate could not be read
        ├── CommitError                 the transaction is in a block but was marked invalid
        ├── LedgerTimeout               a call ran past its deadline     (also UnavailableError)
        └── LedgerUnavailable           peer, peers or orderer unreachable (also UnavailableError)

Chaincode errors derive from `EndorseError` because that is where they happen: the chaincode runs
while the peers simulate the proposal, for `evaluate` as for `submit`, so a caller that only cares
"the peers said no" catches `EndorseError`, and one that cares why catches the specific class. They
also derive from the matching `medchain.common.errors` class so transports map them to HTTP and
gRPC status once. FAILED_PRECONDITION (the ledger is in the wrong state for this call, e.g. a round
that is not open) maps to `ConflictError`, HTTP 409, like CONFLICT.

Errors raised from a gRPC call carry the transaction id, the phase, the gRPC status code name and
the per-peer details the Gateway attached (`PeerErrorDetail`). `grpc.RpcError` is translated into
this tree in exactly one place, `_translate.py`, and re-raised `from` the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from medchain.common.errors import (
    ConfigurationError,
    ConflictError,
    MedChainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)

# Names follow the chaincode's codes (ChaincodeNotFound ~ NOT_FOUND), not an "...Error" suffix.
# ruff: noqa: N818

Phase = Literal["evaluate", "endorse", "submit", "commit_status", "events"]


@dataclass(frozen=True, slots=True)
class PeerErrorDetail:
    """What one peer or orderer reported, from a `gateway.ErrorDetail` in the gRPC status."""

    address: str
    msp_id: str
    message: str


class LedgerError(MedChainError):
    """Base class of every ledger client error."""

    def __init__(
        self,
        message: str,
        *,
        tx_id: str | None = None,
        phase: Phase | None = None,
        grpc_code: str | None = None,
        details: tuple[PeerErrorDetail, ...] = (),
    ) -> None:
        super().__init__(message)
        self.tx_id = tx_id
        self.phase = phase
        self.grpc_code = grpc_code
        self.details = details

    def __str__(self) -> str:
        lines = [self.message]
        if self.tx_id:
            lines[0] += f" (tx {self.tx_id})"
        lines.extend(f"  - {d.address} ({d.msp_id}): {d.message}" for d in self.details)
        return "\n".join(lines)


class IdentityError(LedgerError, ConfigurationError):
    """The MSP directory, certificate or key cannot be used to sign transactions."""


class EndorseError(LedgerError):
    """The peers refused to endorse (submit) or evaluate (query) the proposal."""

    @property
    def endorsers_disagreed(self) -> bool:
        """Endorsers returned different results: one had not yet committed the block another had.

        Nothing was ordered, so endorsing again (a moment later) is safe for any transaction.
        """
        marker = "ProposalResponsePayloads do not match"
        messages = [d.message for d in self.details] or [self.message]
        return all(marker in m for m in messages)


class ChaincodeError(EndorseError):
    """The chaincode returned one of the coded errors of docs/ledger-interface.md."""

    code: str = ""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        field: str | None = None,
        tx_id: str | None = None,
        phase: Phase | None = None,
        grpc_code: str | None = None,
        details: tuple[PeerErrorDetail, ...] = (),
    ) -> None:
        super().__init__(message, tx_id=tx_id, phase=phase, grpc_code=grpc_code, details=details)
        self.reason = reason
        self.field = field


class ChaincodeInvalidArgument(ChaincodeError, ValidationError):
    """INVALID_ARGUMENT: an argument breaks a rule; `field` names it."""

    code = "INVALID_ARGUMENT"


class ChaincodePermissionDenied(ChaincodeError, PermissionDeniedError):
    """PERMISSION_DENIED: the caller's organisation may not do this."""

    code = "PERMISSION_DENIED"


class ChaincodeNotFound(ChaincodeError, NotFoundError):
    """NOT_FOUND: the consent, study or round asked for does not exist."""

    code = "NOT_FOUND"


class ChaincodeConflict(ChaincodeError, ConflictError):
    """CONFLICT: the write clashes with the ledger (already exists, already joined)."""

    code = "CONFLICT"


class ChaincodePreconditionFailed(ChaincodeError, ConflictError):
    """FAILED_PRECONDITION: the ledger is not in the state this call needs."""

    code = "FAILED_PRECONDITION"


class SubmitError(LedgerError):
    """The Gateway could not hand the endorsed transaction to the orderer."""


class CommitStatusError(LedgerError):
    """The transaction was submitted, but its commit status could not be read; it may commit."""


class CommitError(LedgerError):
    """The transaction reached a block but was invalidated (e.g. MVCC_READ_CONFLICT)."""

    def __init__(
        self, tx_id: str, validation_code: int, validation_name: str, block_number: int
    ) -> None:
        super().__init__(
            f"transaction failed to commit: {validation_name} ({validation_code}) "
            f"in block {block_number}",
            tx_id=tx_id,
            phase="commit_status",
        )
        self.validation_code = validation_code
        self.validation_name = validation_name
        self.block_number = block_number


class LedgerTimeout(LedgerError, UnavailableError):
    """A call did not finish within its deadline; a submitted transaction may still commit."""


class LedgerUnavailable(LedgerError, UnavailableError):
    """The peer, or the peers and orderers it needs, cannot be reached."""


CHAINCODE_ERRORS: dict[str, type[ChaincodeError]] = {
    cls.code: cls
    for cls in (
        ChaincodeInvalidArgument,
        ChaincodePermissionDenied,
        ChaincodeNotFound,
        ChaincodeConflict,
        ChaincodePreconditionFailed,
    )
}

# The Gateway wraps chaincode messages ("chaincode response 500, CONFLICT: ..."), so the code may
# follow a prefix; it must start the message or follow a separator to count.
_CODED = re.compile(
    r"(?:^|[\s,:])(" + "|".join(CHAINCODE_ERRORS) + r"): (.*)\Z",
    re.DOTALL,
)
_FIELD = re.compile(r"([^\s:]+): (.*)\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CodedMessage:
    """A chaincode error message split into its parts."""

    code: str
    reason: str
    field: str | None


def parse_chaincode_message(message: str) -> CodedMessage | None:
    """Find `CODE: reason` (and `INVALID_ARGUMENT: field: reason`) in a peer's message."""
    match = _CODED.search(message)
    if match is None:
        return None
    code, rest = match.group(1), match.group(2).strip()
    if code == "INVALID_ARGUMENT":
        field_match = _FIELD.match(rest)
        if field_match is not None:
            return CodedMessage(code, field_match.group(2).strip(), field_match.group(1))
    return CodedMessage(code, rest, None)
