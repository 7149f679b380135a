"""gRPC failures from the Gateway become the right ledger errors, with per-peer details."""

from __future__ import annotations

import grpc
import pytest

from medchain.common.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from medchain.ledger.errors import (
    ChaincodeConflict,
    ChaincodeError,
    ChaincodeInvalidArgument,
    ChaincodeNotFound,
    ChaincodePermissionDenied,
    ChaincodePreconditionFailed,
    CodedMessage,
    CommitStatusError,
    EndorseError,
    LedgerError,
    LedgerUnavailable,
    PeerErrorDetail,
    SubmitError,
    parse_chaincode_message,
)
from medchain.ledger.gateway import Contract, Gateway

from .conftest import RunningFake
from .fake_gateway import Proposal, RefusedError

PEER1 = ("peer0.h1.medchain.local:7051", "h1MSP")
PEER2 = ("peer0.h2.medchain.local:9051", "h2MSP")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "INVALID_ARGUMENT: consents[3].pseudonym: must be 64 lower-case hex characters",
            CodedMessage(
                "INVALID_ARGUMENT", "must be 64 lower-case hex characters", "consents[3].pseudonym"
            ),
        ),
        (
            "chaincode response 500, NOT_FOUND: consent h1MSP/abc/s-1",
            CodedMessage("NOT_FOUND", "consent h1MSP/abc/s-1", None),
        ),
        (
            "evaluate call to endorser returned error: chaincode response 500, CONFLICT: joined",
            CodedMessage("CONFLICT", "joined", None),
        ),
        ("PERMISSION_DENIED: only h1MSP", CodedMessage("PERMISSION_DENIED", "only h1MSP", None)),
        (
            "FAILED_PRECONDITION: round 2 is not open",
            CodedMessage("FAILED_PRECONDITION", "round 2 is not open", None),
        ),
        ("chaincode stream terminated", None),
        ("XNOT_FOUND: glued to a word", None),
        ("INTERNAL: ledger: get state failed", None),
    ],
)
def test_parse_chaincode_message(message: str, expected: CodedMessage | None) -> None:
    assert parse_chaincode_message(message) == expected


def _contract(gateway: Gateway) -> Contract:
    return gateway.get_network("medchain").get_contract("medchain", "consent")


def _refuse(fake: RunningFake, error: RefusedError) -> None:
    def handler(p: Proposal) -> bytes:
        raise error

    fake.servicer.state.handler = handler


@pytest.mark.parametrize(
    ("code", "cls", "common"),
    [
        ("INVALID_ARGUMENT", ChaincodeInvalidArgument, ValidationError),
        ("PERMISSION_DENIED", ChaincodePermissionDenied, PermissionDeniedError),
        ("NOT_FOUND", ChaincodeNotFound, NotFoundError),
        ("CONFLICT", ChaincodeConflict, ConflictError),
        ("FAILED_PRECONDITION", ChaincodePreconditionFailed, ConflictError),
    ],
)
def test_endorsement_refused_by_chaincode_maps_to_its_code(
    code: str,
    cls: type[ChaincodeError],
    common: type[Exception],
    fake: RunningFake,
    gateway: Gateway,
) -> None:
    text = f"{code}: study: must be set" if code == "INVALID_ARGUMENT" else f"{code}: nope"
    _refuse(
        fake,
        RefusedError(
            grpc.StatusCode.ABORTED,
            "failed to endorse transaction, see attached details for more info",
            [
                (*PEER1, f"chaincode response 500, {text}"),
                (*PEER2, f"chaincode response 500, {text}"),
            ],
        ),
    )

    with pytest.raises(cls) as caught:
        _contract(gateway).submit("Record", "{}")

    error = caught.value
    assert isinstance(error, EndorseError)
    assert isinstance(error, common)
    assert error.code == code
    assert error.phase == "endorse"
    assert error.grpc_code == "ABORTED"
    assert error.tx_id == fake.servicer.state.proposals[0].tx_id
    assert error.details == (
        PeerErrorDetail(*PEER1, f"chaincode response 500, {text}"),
        PeerErrorDetail(*PEER2, f"chaincode response 500, {text}"),
    )
    assert isinstance(error.__cause__, grpc.RpcError)
    if code == "INVALID_ARGUMENT":
        assert (error.field, error.reason) == ("study", "must be set")
    else:
        assert (error.field, error.reason) == (None, "nope")
    assert "peer0.h2.medchain.local:9051 (h2MSP)" in str(error)


def test_evaluate_error_without_details_is_parsed_from_the_message(
    fake: RunningFake, gateway: Gateway
) -> None:
    _refuse(
        fake,
        RefusedError(
            grpc.StatusCode.UNKNOWN,
            "evaluate call to endorser returned error: chaincode response 500, "
            "NOT_FOUND: consent h1MSP/ab/s-1",
        ),
    )

    with pytest.raises(ChaincodeNotFound) as caught:
        _contract(gateway).evaluate("Get", "h1MSP", "ab", "s-1")

    assert caught.value.phase == "evaluate"
    assert caught.value.reason == "consent h1MSP/ab/s-1"
    assert caught.value.details == ()


def test_uncoded_endorsement_failure_is_a_plain_endorse_error(
    fake: RunningFake, gateway: Gateway
) -> None:
    _refuse(
        fake,
        RefusedError(
            grpc.StatusCode.ABORTED,
            "failed to collect enough transaction endorsements",
            [(*PEER2, "ProposalResponsePayloads do not match")],
        ),
    )

    with pytest.raises(EndorseError) as caught:
        _contract(gateway).submit("Record", "{}")

    assert type(caught.value) is EndorseError
    assert caught.value.details == (
        PeerErrorDetail(*PEER2, "ProposalResponsePayloads do not match"),
    )


def test_unreachable_peers_are_unavailable_with_details(
    fake: RunningFake, gateway: Gateway
) -> None:
    _refuse(
        fake,
        RefusedError(
            grpc.StatusCode.UNAVAILABLE, "no peers available", [(*PEER2, "connection refused")]
        ),
    )

    with pytest.raises(LedgerUnavailable) as caught:
        _contract(gateway).evaluate("Get")

    assert isinstance(caught.value, UnavailableError)
    assert caught.value.details == (PeerErrorDetail(*PEER2, "connection refused"),)


def test_submit_failure_is_a_submit_error(fake: RunningFake, gateway: Gateway) -> None:
    fake.servicer.state.failures["submit"] = RefusedError(
        grpc.StatusCode.ABORTED, "orderer said no", [("orderer:7050", "OrdererMSP", "full")]
    )

    with pytest.raises(SubmitError) as caught:
        _contract(gateway).submit("Record", "{}")

    assert caught.value.details == (PeerErrorDetail("orderer:7050", "OrdererMSP", "full"),)
    assert caught.value.phase == "submit"
    assert caught.value.tx_id == fake.servicer.state.submitted[0]
    assert fake.servicer.state.commit_requests == []


def test_commit_status_failure_is_its_own_error(fake: RunningFake, gateway: Gateway) -> None:
    fake.servicer.state.failures["commit_status"] = RefusedError(
        grpc.StatusCode.PERMISSION_DENIED, "not your transaction"
    )

    with pytest.raises(CommitStatusError) as caught:
        _contract(gateway).submit("Record", "{}")

    assert caught.value.tx_id == fake.servicer.state.submitted[0]
    assert caught.value.grpc_code == "PERMISSION_DENIED"


def test_every_error_is_a_ledger_error() -> None:
    for cls in (
        ChaincodeConflict,
        ChaincodePreconditionFailed,
        SubmitError,
        CommitStatusError,
        LedgerUnavailable,
    ):
        assert issubclass(cls, LedgerError)
