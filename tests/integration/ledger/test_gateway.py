"""medchain.ledger against the real network: submit, evaluate, events, tampering, MVCC, load."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading

import pytest

from medchain.ledger import (
    DEFAULT_MVCC_RETRY,
    Checkpoint,
    CommitError,
    ConsentLedger,
    EndorseError,
    LedgerError,
    Network,
    connect_async,
)
from medchain.ledger.transaction import (
    Invocation,
    TransactionContext,
    endorse_request,
)
from medchain.network.fabric_network import FabricNetwork
from tests.integration.support import consent, until_endorsable

pytestmark = pytest.mark.integration


def test_submit_and_evaluate_consent(consent_ledgers: dict[str, ConsentLedger]) -> None:
    ledger = consent_ledgers["h1"]
    wanted = consent()
    done = until_endorsable(lambda: ledger.record(wanted))
    assert done.block_number > 0
    assert len(done.tx_id) == 64
    assert done.value.version == 1
    read = consent_ledgers["h2"].get("h1MSP", wanted.pseudonym, wanted.study)
    assert read.document_hash == wanted.document_hash
    assert read.tx_id == done.tx_id


def test_events_in_order_and_resumed_after_reconnect(
    consent_ledgers: dict[str, ConsentLedger], networks: dict[str, Network]
) -> None:
    ledger = consent_ledgers["h1"]
    written = [until_endorsable(lambda: ledger.record(consent())) for _ in range(4)]
    start = written[0].block_number
    with networks["h2"].chaincode_events("medchain", start_block=start) as stream:
        first_two = [next(stream), next(stream)]
        saved = stream.checkpoint
    assert [e.tx_id for e in first_two] == [w.tx_id for w in written[:2]]
    assert all(e.event_name == "ConsentRecorded" for e in first_two)
    assert saved is not None
    resumed_from = Checkpoint.model_validate_json(saved.model_dump_json())
    with networks["h3"].chaincode_events("medchain", checkpoint=resumed_from) as stream:
        rest = [next(stream), next(stream)]
    assert [e.tx_id for e in rest] == [w.tx_id for w in written[2:]]
    payload = json.loads(rest[-1].payload)
    assert payload["changes"][0]["pseudonym"] == written[-1].value.pseudonym


def test_tampered_signature_is_rejected(networks: dict[str, Network]) -> None:
    network = networks["h1"]
    gateway = network.gateway
    ctx = TransactionContext.new(gateway.identity)
    call = Invocation(
        channel="medchain",
        chaincode="medchain",
        function="consent:Record",
        args=(consent().to_arg(),),
    )
    request = endorse_request(ctx, call, gateway.signer, None)
    signature = bytearray(request.proposed_transaction.signature)
    signature[-1] ^= 0x01
    request.proposed_transaction.signature = bytes(signature)
    with pytest.raises(LedgerError) as caught:
        gateway.invoke("endorse", request, 10.0, ctx.tx_id)
    assert "signature" in str(caught.value).lower() or isinstance(caught.value, EndorseError)


def test_mvcc_conflict_surfaced_without_retry_and_absorbed_with_retry(
    networks: dict[str, Network],
) -> None:
    contract = networks["h1"].get_contract("medchain", "consent")
    pseudonym = secrets.token_hex(32)
    base = consent(pseudonym=pseudonym)
    until_endorsable(lambda: contract.submit("Record", base.to_arg()))

    def race(retry: bool) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = [None] * 4
        barrier = threading.Barrier(4)

        def write(slot: int) -> None:
            barrier.wait()
            try:
                update = consent(pseudonym=pseudonym)
                if retry:
                    contract.submit("Record", update.to_arg(), retry=DEFAULT_MVCC_RETRY)
                else:
                    contract.submit("Record", update.to_arg())
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                outcomes[slot] = exc

        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    without_retry = race(retry=False)
    conflicts = [e for e in without_retry if isinstance(e, CommitError)]
    assert conflicts, "four concurrent writes of one key should conflict at least once"
    assert all(e.validation_name == "MVCC_READ_CONFLICT" for e in conflicts)
    assert all(e is None or isinstance(e, CommitError) for e in without_retry)
    before = ConsentLedger(contract).get("h1MSP", pseudonym, base.study).version
    assert race(retry=True) == [None] * 4
    assert ConsentLedger(contract).get("h1MSP", pseudonym, base.study).version == before + 4


def test_two_hundred_concurrent_submits_all_commit(fabric_network: FabricNetwork) -> None:
    async def run() -> list[int]:
        gateway = connect_async(fabric_network.connection_profile("h2"))
        try:
            contract = gateway.get_network("medchain").get_contract("medchain", "consent")
            results = await asyncio.gather(
                *(contract.submit("Record", consent("h2MSP").to_arg()) for _ in range(200))
            )
            return [r.validation_code for r in results]
        finally:
            await gateway.close()

    codes = asyncio.run(run())
    assert codes == [0] * 200
