"""The one place where gRPC errors become ledger errors, with the Gateway's per-peer details."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from medchain.ledger._protos import gateway_pb2, status_pb2
from medchain.ledger.errors import (
    CHAINCODE_ERRORS,
    CommitStatusError,
    EndorseError,
    LedgerError,
    LedgerTimeout,
    LedgerUnavailable,
    PeerErrorDetail,
    Phase,
    SubmitError,
    parse_chaincode_message,
)

_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_ERROR_DETAIL_TYPE = "gateway.ErrorDetail"

_PHASE_ERRORS: dict[Phase, type[LedgerError]] = {
    "evaluate": EndorseError,
    "endorse": EndorseError,
    "submit": SubmitError,
    "commit_status": CommitStatusError,
    "events": LedgerError,
}


def _status_details(metadata: Iterable[Any] | None) -> bytes | None:
    # Sync calls give `_Metadatum` named tuples, asyncio calls plain (key, value) tuples.
    for item in metadata or ():
        if item[0] == _STATUS_DETAILS_KEY and isinstance(item[1], bytes):
            return item[1]
    return None


def peer_details(exc: grpc.RpcError) -> tuple[PeerErrorDetail, ...]:
    """Decode the `gateway.ErrorDetail` messages packed in the error's `google.rpc.Status`."""
    raw = _status_details(exc.trailing_metadata())
    if raw is None:
        return ()
    try:
        status = status_pb2.Status.FromString(raw)
    except DecodeError:
        return ()
    found: list[PeerErrorDetail] = []
    for any_detail in status.details:
        if any_detail.TypeName() != _ERROR_DETAIL_TYPE:
            continue
        detail = gateway_pb2.ErrorDetail()
        any_detail.Unpack(detail)
        found.append(PeerErrorDetail(str(detail.address), str(detail.msp_id), str(detail.message)))
    return tuple(found)


def translate_rpc_error(exc: grpc.RpcError, *, phase: Phase, tx_id: str | None) -> LedgerError:
    """The ledger error for a failed gRPC call; the caller raises it `from exc`."""
    code = exc.code()
    message = exc.details() or (code.name if code is not None else "gRPC call failed")
    details = peer_details(exc)
    code_name = code.name if code is not None else None

    def build(cls: type[LedgerError], text: str) -> LedgerError:
        return cls(text, tx_id=tx_id, phase=phase, grpc_code=code_name, details=details)

    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return build(LedgerTimeout, f"{phase} timed out: {message}")
    if code is grpc.StatusCode.UNAVAILABLE:
        return build(LedgerUnavailable, f"{phase} unavailable: {message}")
    if phase in ("evaluate", "endorse"):
        for candidate in [*(d.message for d in details), message]:
            coded = parse_chaincode_message(candidate)
            if coded is not None:
                field = f"{coded.field}: " if coded.field else ""
                return CHAINCODE_ERRORS[coded.code](
                    f"{coded.code}: {field}{coded.reason}",
                    reason=coded.reason,
                    field=coded.field,
                    tx_id=tx_id,
                    phase=phase,
                    grpc_code=code_name,
                    details=details,
                )
    return build(_PHASE_ERRORS[phase], f"{phase} failed: {message}")
