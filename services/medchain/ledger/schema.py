"""JSON shapes shared by the chaincode wrappers: field types, base models, and `Committed[T]`.

Field names are snake_case in Python and camelCase on the ledger (docs/ledger-interface.md);
times are UTC `datetime`s in Python and `2026-01-31T12:00:00Z` on the ledger, where an empty
string means "none" (an open-ended `validUntil`, a round not yet committed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from medchain.common.hashing import canonical_json
from medchain.ledger.errors import LedgerError
from medchain.ledger.gateway import Contract
from medchain.ledger.policy import RetryPolicy
from medchain.ledger.transaction import Arg

T = TypeVar("T")

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _to_utc(value: Any) -> Any:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("ledger times must carry a time zone")
        return value.astimezone(dt.UTC)
    return value


def _whole_seconds(value: dt.datetime) -> dt.datetime:
    if value.microsecond:
        raise ValueError("ledger times have second precision; use .replace(microsecond=0)")
    return value


def _format_time(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime(_TIME_FORMAT)


def _optional_to_utc(value: Any) -> Any:
    return None if value is None or value == "" else _to_utc(value)


def _optional_whole_seconds(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _whole_seconds(value)


#: A UTC instant with second precision, `2026-01-31T12:00:00Z` on the ledger.
LedgerTime = Annotated[
    dt.datetime,
    BeforeValidator(_to_utc),
    AfterValidator(_whole_seconds),
    PlainSerializer(_format_time, return_type=str, when_used="json"),
]
#: A ledger time that may be absent: `""` on the ledger, `None` in Python.
OptionalLedgerTime = Annotated[
    dt.datetime | None,
    BeforeValidator(_optional_to_utc),
    AfterValidator(_optional_whole_seconds),
    PlainSerializer(_format_time, return_type=str, when_used="json"),
]
#: A SHA-256 digest or a patient pseudonym: 64 lower-case hex characters.
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: A Fabric MSP id such as `h1MSP`.
MspId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,128}$")]
#: A study id or metric name.
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
#: Metric name -> value.
Metrics = dict[Identifier, float]


class LedgerInput(BaseModel):
    """Base of what the client sends: exactly the documented fields, camelCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        extra="forbid",
    )

    def to_arg(self) -> bytes:
        """The canonical JSON argument the chaincode expects."""
        return canonical_json(self.model_dump(mode="json", by_alias=True))


class LedgerRecord(BaseModel):
    """Base of what the chaincode returns; fields added later by the chaincode are ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        extra="ignore",
    )


@dataclass(frozen=True, slots=True)
class Committed(Generic[T]):
    """A write's parsed result and its proof: the transaction id and the block holding it."""

    value: T
    tx_id: str
    block_number: int


def json_arg(value: Sequence[str] | Sequence[LedgerInput]) -> bytes:
    """A JSON array argument: canonical JSON of strings or of input models."""
    items = [
        v.model_dump(mode="json", by_alias=True) if isinstance(v, LedgerInput) else v for v in value
    ]
    return canonical_json(items)


def parse_result(
    adapter: TypeAdapter[T], data: bytes, *, function: str, tx_id: str | None = None
) -> T:
    """Parse a chaincode result; one that breaks the interface is a `LedgerError`."""
    try:
        return adapter.validate_json(data)
    except PydanticValidationError as exc:
        raise LedgerError(
            f"{function} returned JSON that does not match docs/ledger-interface.md: {exc}",
            tx_id=tx_id,
        ) from exc


class TypedContract:
    """A `Contract` that parses results into models; the base of the chaincode wrappers."""

    def __init__(self, contract: Contract, contract_name: str, retry: RetryPolicy | None) -> None:
        if contract.contract_name != contract_name:
            raise ValueError(
                f"expected the {contract_name!r} contract, got {contract.contract_name!r}"
            )
        self.contract = contract
        self.retry = retry

    def submit(self, adapter: TypeAdapter[T], function: str, *args: Arg) -> Committed[T]:
        """Submit, retrying MVCC conflicts per the policy, and parse the committed result."""
        done = self.contract.submit(function, *args, retry=self.retry)
        value = parse_result(adapter, done.result, function=function, tx_id=done.tx_id)
        return Committed(value, done.tx_id, done.block_number)

    def evaluate(self, adapter: TypeAdapter[T], function: str, *args: Arg) -> T:
        """Evaluate and parse the result."""
        return parse_result(adapter, self.contract.evaluate(function, *args), function=function)
