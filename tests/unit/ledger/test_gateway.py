"""The threaded client against the fake Gateway: proposals, signing, submit flow, deadlines."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from medchain.ledger._protos import common_pb2
from medchain.ledger.errors import CommitError, EndorseError, LedgerTimeout
from medchain.ledger.gateway import Gateway
from medchain.ledger.identity import P256_ORDER, Identity, Signer
from medchain.ledger.policy import ENDORSE_DISAGREEMENT_RETRY, Deadlines, RetryPolicy

from .certs import PEER_HOST
from .conftest import RunningFake
from .fake_gateway import Proposal, RefusedError, verify

ENDORSER_TRANSACTION = common_pb2.HeaderType.Value("ENDORSER_TRANSACTION")


def test_evaluate_sends_the_right_proposal_and_returns_the_payload(
    fake: RunningFake, gateway: Gateway, user: tuple[Identity, Signer]
) -> None:
    fake.servicer.state.handler = lambda p: b'{"ok":true}'
    contract = gateway.get_network("medchain").get_contract("medchain", "consent")

    result = contract.evaluate("Get", "h1MSP", b"\x00raw", endorsing_organizations=["h2MSP"])

    assert result == b'{"ok":true}'
    [proposal] = fake.servicer.state.proposals
    assert proposal.kind == "evaluate"
    assert proposal.channel == "medchain"
    assert proposal.header_type == ENDORSER_TRANSACTION
    assert proposal.chaincode == "medchain"
    assert proposal.function == "consent:Get"
    assert proposal.args == (b"h1MSP", b"\x00raw")
    assert proposal.orgs == ("h2MSP",)
    identity, _ = user
    assert proposal.creator == identity.serialized()
    assert proposal.msp_id == "h1MSP"


def test_tx_id_is_sha256_of_nonce_and_creator(fake: RunningFake, gateway: Gateway) -> None:
    contract = gateway.get_network("medchain").get_contract("medchain")
    contract.evaluate("Ping")
    contract.evaluate("Ping")

    first, second = fake.servicer.state.proposals
    for proposal in (first, second):
        assert len(proposal.nonce) == 24
        assert proposal.tx_id == hashlib.sha256(proposal.nonce + proposal.creator).hexdigest()
    assert first.function == "Ping"  # no contract name, no prefix
    assert first.nonce != second.nonce


def test_submit_endorses_submits_and_waits_for_commit(fake: RunningFake, gateway: Gateway) -> None:
    seen: list[Proposal] = []

    def handler(p: Proposal) -> bytes:
        seen.append(p)
        return b"result:" + p.args[0]

    fake.servicer.state.handler = handler
    contract = gateway.get_network("medchain").get_contract("medchain", "study")

    submitted = contract.submit(
        "JoinStudy", "s-1", endorsing_organizations=["h1MSP"], transient={"k": b"secret"}
    )

    [proposal] = seen
    assert submitted.result == b"result:s-1"
    assert submitted.tx_id == proposal.tx_id
    assert (submitted.validation_code, submitted.validation_name) == (0, "VALID")
    assert submitted.block_number == fake.servicer.state.block_number
    assert proposal.kind == "endorse"
    assert proposal.transient == {"k": b"secret"}
    assert proposal.orgs == ("h1MSP",)
    assert fake.servicer.state.submitted == [proposal.tx_id]
    assert fake.servicer.state.commit_requests == [proposal.tx_id]
    # proposal, envelope payload and commit status request: each signed, and verified by the fake
    # against the creator's certificate (it refuses bad or high-S signatures)
    signatures = fake.servicer.state.signatures
    assert len(signatures) == 3
    assert all(decode_dss_signature(sig)[1] <= P256_ORDER // 2 for sig in signatures)


def test_commit_conflict_raises_commit_error_without_retry(
    fake: RunningFake, gateway: Gateway
) -> None:
    fake.servicer.state.commit_codes.extend([11])
    contract = gateway.get_network("medchain").get_contract("medchain", "consent")

    with pytest.raises(CommitError) as caught:
        contract.submit("Record", "{}")

    assert caught.value.validation_code == 11
    assert caught.value.validation_name == "MVCC_READ_CONFLICT"
    assert caught.value.block_number == fake.servicer.state.block_number
    assert caught.value.tx_id == fake.servicer.state.submitted[0]
    assert len(fake.servicer.state.submitted) == 1


def test_commit_conflict_is_retried_with_a_new_transaction(
    fake: RunningFake, gateway: Gateway
) -> None:
    fake.servicer.state.commit_codes.extend([11, 12])
    contract = gateway.get_network("medchain").get_contract("medchain", "consent")

    submitted = contract.submit(
        "Record", "{}", retry=RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    )

    tx_ids = fake.servicer.state.submitted
    assert len(tx_ids) == 3
    assert len(set(tx_ids)) == 3
    assert submitted.tx_id == tx_ids[-1]


def test_conflict_retries_are_capped(fake: RunningFake, gateway: Gateway) -> None:
    fake.servicer.state.commit_codes.extend([11, 11, 11])
    contract = gateway.get_network("medchain").get_contract("medchain", "consent")

    with pytest.raises(CommitError):
        contract.submit("Record", "{}", retry=RetryPolicy(max_attempts=2, initial_backoff=0.01))

    assert len(fake.servicer.state.submitted) == 2


def test_other_invalid_codes_are_not_retried(fake: RunningFake, gateway: Gateway) -> None:
    fake.servicer.state.commit_codes.extend([10])
    contract = gateway.get_network("medchain").get_contract("medchain", "consent")

    with pytest.raises(CommitError) as caught:
        contract.submit("Record", "{}", retry=RetryPolicy(initial_backoff=0.01))

    assert caught.value.validation_name == "ENDORSEMENT_POLICY_FAILURE"
    assert len(fake.servicer.state.submitted) == 1


@pytest.mark.parametrize("phase", ["evaluate", "endorse", "submit", "commit_status"])
def test_each_deadline_applies(
    phase: str, fake: RunningFake, user: tuple[Identity, Signer]
) -> None:
    identity, signer = user
    deadlines = Deadlines(
        **{"evaluate": 5.0, "endorse": 5.0, "submit": 5.0, "commit_status": 5.0, phase: 0.3}
    )
    fake.servicer.state.delays[phase] = 3.0
    with Gateway.connect(
        fake.endpoint, identity, signer, fake.tls.ca_pem, PEER_HOST, deadlines
    ) as gateway:
        contract = gateway.get_network("medchain").get_contract("medchain")
        started = time.monotonic()
        call = contract.evaluate if phase == "evaluate" else contract.submit
        with pytest.raises(LedgerTimeout) as caught:
            call("Slow")
        elapsed = time.monotonic() - started

    assert caught.value.phase == phase
    assert caught.value.grpc_code == "DEADLINE_EXCEEDED"
    assert caught.value.tx_id is not None
    assert elapsed < 2.0


def test_fake_refuses_what_a_peer_refuses(user: tuple[Identity, Signer]) -> None:
    identity, signer = user
    data = b"payload"
    assert verify(identity.serialized(), signer.sign(data), data) is None
    assert verify(identity.serialized(), signer.sign(data), b"other") == "signature does not verify"
    r, s = decode_dss_signature(signer.sign(data))
    high = encode_dss_signature(r, P256_ORDER - s)
    assert verify(identity.serialized(), high, data) == "signature is high-S"


def _disagreeing(times: int) -> Callable[[Proposal], bytes]:
    """An endorse handler whose peers disagree `times` times, then agree."""
    calls = {"n": 0}

    def handler(proposal: Proposal) -> bytes:
        calls["n"] += 1
        if proposal.kind == "endorse" and calls["n"] <= times:
            raise RefusedError(
                grpc.StatusCode.ABORTED,
                "failed to collect enough transaction endorsements",
                [
                    ("127.0.0.1:7030", "h1MSP", "ProposalResponsePayloads do not match"),
                    ("127.0.0.1:7050", "h3MSP", "ProposalResponsePayloads do not match"),
                ],
            )
        return b"{}"

    return handler


def test_endorsers_disagreeing_is_endorsed_again_with_a_new_transaction(
    fake: RunningFake, gateway: Gateway
) -> None:
    fake.servicer.state.handler = _disagreeing(2)
    contract = gateway.get_network("medchain").get_contract("medchain", "study")

    result = contract.submit("OpenRound", "s1", "1")

    endorsements = [p for p in fake.servicer.state.proposals if p.kind == "endorse"]
    assert len(endorsements) == 3
    assert len({p.tx_id for p in endorsements}) == 3
    assert fake.servicer.state.submitted == [result.tx_id]


def test_disagreement_retries_are_capped(fake: RunningFake, gateway: Gateway) -> None:
    fake.servicer.state.handler = _disagreeing(100)
    contract = gateway.get_network("medchain").get_contract("medchain", "study")
    with pytest.raises(EndorseError) as caught:
        contract.submit("OpenRound", "s1", "1")
    assert caught.value.endorsers_disagreed
    assert len(fake.servicer.state.proposals) == ENDORSE_DISAGREEMENT_RETRY.max_attempts
    assert fake.servicer.state.submitted == []


def test_other_endorsement_failures_are_not_retried(fake: RunningFake, gateway: Gateway) -> None:
    def refuse(proposal: Proposal) -> bytes:
        raise RefusedError(
            grpc.StatusCode.ABORTED,
            "failed to collect enough transaction endorsements",
            [
                ("127.0.0.1:7030", "h1MSP", "ProposalResponsePayloads do not match"),
                ("127.0.0.1:7040", "h2MSP", "chaincode response 500, PERMISSION_DENIED: no"),
            ],
        )

    fake.servicer.state.handler = refuse
    contract = gateway.get_network("medchain").get_contract("medchain", "study")
    with pytest.raises(EndorseError) as caught:
        contract.submit("OpenRound", "s1", "1")
    assert not caught.value.endorsers_disagreed
    assert len(fake.servicer.state.proposals) == 1
