"""What a committed transaction reports back: its result, id, validation code and block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medchain.ledger.errors import CommitError
from medchain.ledger.transaction import validation_code_name

VALID = 0


@dataclass(frozen=True, slots=True)
class CommitStatus:
    """The fate of a transaction once it is in a block."""

    tx_id: str
    validation_code: int
    validation_name: str
    block_number: int

    @property
    def successful(self) -> bool:
        """Whether the peers marked it VALID."""
        return self.validation_code == VALID

    @classmethod
    def from_response(cls, tx_id: str, response: Any) -> CommitStatus:
        """From a `gateway.CommitStatusResponse`."""
        code = int(response.result)
        return cls(tx_id, code, validation_code_name(code), int(response.block_number))

    def raise_for_status(self) -> None:
        """Raise `CommitError` unless the transaction is VALID."""
        if not self.successful:
            raise CommitError(
                self.tx_id, self.validation_code, self.validation_name, self.block_number
            )


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """A committed, valid transaction: the chaincode's result and where the proof lives."""

    result: bytes
    tx_id: str
    validation_code: int
    validation_name: str
    block_number: int

    @classmethod
    def committed(cls, result: bytes, status: CommitStatus) -> SubmitResult:
        """The result of a transaction whose status was checked to be VALID."""
        status.raise_for_status()
        return cls(
            result,
            status.tx_id,
            status.validation_code,
            status.validation_name,
            status.block_number,
        )
