"""`ConsentLedger` against the fake Gateway: the exact arguments sent, the JSON parsed back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from medchain.ledger.consent import Consent, ConsentInput, ConsentLedger, ConsentRecorded
from medchain.ledger.errors import CommitError, LedgerError
from medchain.ledger.gateway import Gateway, Network
from medchain.ledger.policy import RetryPolicy

from .conftest import RunningFake
from .fake_gateway import Proposal

P1 = "a" * 64
P2 = "b" * 64
DOC = "d" * 64
JAN31 = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.UTC)
STORED = {
    "pseudonym": P1,
    "org": "h1MSP",
    "study": "s-1",
    "decision": "permit",
    "validFrom": "2026-01-31T12:00:00Z",
    "validUntil": "",
    "documentHash": DOC,
    "status": "active",
    "version": 1,
    "txId": "tx-1",
    "timestamp": "2026-02-01T08:00:00Z",
}


def _answer(fake: RunningFake, result: Any) -> list[Proposal]:
    seen: list[Proposal] = []

    def handler(p: Proposal) -> bytes:
        seen.append(p)
        return json.dumps(result).encode()

    fake.servicer.state.handler = handler
    return seen


def _input(pseudonym: str = P1, **changes: Any) -> ConsentInput:
    fields: dict[str, Any] = {
        "pseudonym": pseudonym,
        "org": "h1MSP",
        "study": "s-1",
        "decision": "permit",
        "valid_from": JAN31,
        "document_hash": DOC,
    }
    return ConsentInput(**(fields | changes))


@pytest.fixture
def network(gateway: Gateway) -> Network:
    return gateway.get_network("medchain")


@pytest.fixture
def ledger(network: Network) -> ConsentLedger:
    return ConsentLedger.for_network(network)


def test_record_sends_canonical_json_and_returns_the_proof(
    fake: RunningFake, ledger: ConsentLedger
) -> None:
    seen = _answer(fake, STORED)

    done = ledger.record(_input(valid_until=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)))

    [proposal] = seen
    assert (proposal.kind, proposal.chaincode, proposal.function) == (
        "endorse",
        "medchain",
        "consent:Record",
    )
    assert proposal.args == (
        b'{"decision":"permit","documentHash":"' + DOC.encode() + b'","org":"h1MSP",'
        b'"pseudonym":"' + P1.encode() + b'","study":"s-1",'
        b'"validFrom":"2026-01-31T12:00:00Z","validUntil":"2027-01-01T00:00:00Z"}',
    )
    assert done.tx_id == proposal.tx_id
    assert done.block_number == fake.servicer.state.block_number
    assert done.value == Consent.model_validate(STORED)
    assert done.value.valid_until is None
    assert done.value.timestamp == dt.datetime(2026, 2, 1, 8, tzinfo=dt.UTC)


def test_record_batch_sends_one_json_array(fake: RunningFake, ledger: ConsentLedger) -> None:
    second = STORED | {"pseudonym": P2, "version": 3}
    seen = _answer(fake, {"count": 2, "txId": "tx-9", "consents": [STORED, second]})

    done = ledger.record_batch([_input(P1), _input(P2, decision="deny")])

    sent = json.loads(seen[0].args[0])
    assert [c["pseudonym"] for c in sent] == [P1, P2]
    assert sent[1]["decision"] == "deny"
    assert seen[0].args[0] == json.dumps(sent, sort_keys=True, separators=(",", ":")).encode()
    assert done.value.count == 2
    assert [c.version for c in done.value.consents] == [1, 3]


def test_revoke_sends_four_strings(fake: RunningFake, ledger: ConsentLedger) -> None:
    seen = _answer(fake, STORED | {"status": "revoked", "version": 2})

    done = ledger.revoke("h1MSP", P1, "s-1", DOC)

    assert seen[0].function == "consent:Revoke"
    assert seen[0].args == (b"h1MSP", P1.encode(), b"s-1", DOC.encode())
    assert done.value.status == "revoked"
    assert not done.value.permits(JAN31)


def test_reads_are_evaluated(fake: RunningFake, ledger: ConsentLedger) -> None:
    seen = _answer(fake, STORED)
    assert ledger.get("h1MSP", P1, "s-1").version == 1

    _answer(
        fake,
        [
            {
                "txId": "t1",
                "timestamp": "2026-01-31T12:00:00Z",
                "isDelete": False,
                "consent": STORED,
            },
            {"txId": "t2", "timestamp": "2026-02-01T12:00:00Z", "isDelete": True, "consent": None},
        ],
    )
    history = ledger.history("h1MSP", P1, "s-1")

    filtered = _answer(
        fake, {"study": "s-1", "org": "h1MSP", "asOf": "2026-02-02T00:00:00Z", "permitted": [P2]}
    )
    result = ledger.filter_permitted("h1MSP", "s-1", [P2, P1])

    assert (seen[0].kind, seen[0].function, seen[0].args) == (
        "evaluate",
        "consent:Get",
        (b"h1MSP", P1.encode(), b"s-1"),
    )
    assert [(h.tx_id, h.is_delete, h.consent is None) for h in history] == [
        ("t1", False, False),
        ("t2", True, True),
    ]
    assert filtered[0].function == "consent:FilterPermitted"
    assert filtered[0].args == (b"h1MSP", b"s-1", f'["{P2}","{P1}"]'.encode())
    assert result.permitted == [P2]
    assert result.as_of == dt.datetime(2026, 2, 2, tzinfo=dt.UTC)
    assert fake.servicer.state.submitted == []


def test_writes_retry_conflicts_by_default(fake: RunningFake, network: Network) -> None:
    _answer(fake, STORED)
    fake.servicer.state.commit_codes.extend([11])
    fast = ConsentLedger.for_network(network, retry=RetryPolicy(initial_backoff=0.01))

    fast.record(_input())

    assert len(fake.servicer.state.submitted) == 2
    fake.servicer.state.commit_codes.extend([11])
    with pytest.raises(CommitError):
        ConsentLedger.for_network(network, retry=None).record(_input())


def test_result_that_breaks_the_interface_is_a_ledger_error(
    fake: RunningFake, ledger: ConsentLedger
) -> None:
    _answer(fake, {k: v for k, v in STORED.items() if k != "status"})

    with pytest.raises(LedgerError, match="Record returned JSON") as caught:
        ledger.record(_input())

    assert caught.value.tx_id == fake.servicer.state.submitted[0]


def test_the_wrapper_needs_the_consent_contract(network: Network) -> None:
    with pytest.raises(ValueError, match="'consent' contract"):
        ConsentLedger(network.get_contract("medchain", "study"))


@pytest.mark.parametrize(
    "changes",
    [
        {"pseudonym": "A" * 64},
        {"document_hash": "d" * 63},
        {"study": "has space"},
        {"org": ""},
        {"decision": "maybe"},
        {"valid_from": dt.datetime(2026, 1, 31, 12, 0)},
        {"valid_from": JAN31.replace(microsecond=5)},
        {"extra": 1},
    ],
)
def test_inputs_are_checked_before_sending(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _input(**changes)


def test_times_in_other_zones_become_utc() -> None:
    cet = dt.timezone(dt.timedelta(hours=1))
    consent = _input(valid_from=dt.datetime(2026, 1, 31, 13, 0, tzinfo=cet))
    assert b'"validFrom":"2026-01-31T12:00:00Z"' in consent.to_arg()


def test_permits_follows_the_chaincode_rule() -> None:
    until = STORED | {"validUntil": "2026-03-01T00:00:00Z"}
    consent = Consent.model_validate(until)
    assert not consent.permits(JAN31 - dt.timedelta(seconds=1))
    assert consent.permits(JAN31)
    assert not consent.permits(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert not Consent.model_validate(STORED | {"decision": "deny"}).permits(JAN31)


def test_consent_recorded_event_payload() -> None:
    payload = {
        "txId": "tx-1",
        "changes": [
            {
                "org": "h1MSP",
                "pseudonym": P1,
                "study": "s-1",
                "decision": "permit",
                "status": "active",
                "version": 1,
            }
        ],
    }
    event = ConsentRecorded.model_validate_json(json.dumps(payload))
    assert event.changes[0].pseudonym == P1
