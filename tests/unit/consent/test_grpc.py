"""FilterPermitted over real gRPC (port 0) on a fake ledger: permit, deny, nested deny, expired
period, revocation; from the cache or from the ledger, with the block height reflected."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from medchain.common import serde
from medchain.consent.app import build_grpc_server
from medchain.consent.queries import FilterAnswer, FilterQuery
from medchain.consent.service import ConsentService
from medchain.v1 import consent_pb2_grpc
from tests.unit.consent.conftest import ApiClient
from tests.unit.consent.examples import MRN, consent, study_ext
from tests.unit.consent.fake_ledger import FakeLedger

FHIR = "application/fhir+json"
STUDY = "diabetes-2026"


@pytest.fixture
def channel(service: ConsentService) -> Iterator[grpc.Channel]:
    server, port = build_grpc_server(service, port=0)
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as opened:
            yield opened
    finally:
        server.stop(0).wait()


def ask(
    channel: grpc.Channel, study: str, pseudonyms: list[str], **options: object
) -> FilterAnswer:
    stub = consent_pb2_grpc.ConsentServiceStub(channel)
    query = FilterQuery(study, pseudonyms, **options)  # type: ignore[arg-type]
    return serde.filter_answer_from_proto(stub.FilterPermitted(serde.filter_query_to_proto(query)))


def record(
    client: ApiClient, service: ConsentService, mrn: str, document: dict[str, object]
) -> str:
    response = client.post("/fhir/Consent", document, FHIR)
    assert response.status_code == 201, response.text
    return service.resolve_patient(f"{MRN}|{mrn}")


def test_only_permits_in_force_pass_the_filter(
    client: ApiClient, service: ConsentService, channel: grpc.Channel, ledger: FakeLedger
) -> None:
    permit = record(client, service, "1", consent("1"))
    deny = record(client, service, "2", consent("2", decision="deny"))
    nested = record(client, service, "3", consent("3", nested=[{"type": "deny"}]))
    expired = record(client, service, "4", consent("4", period={"start": "2019", "end": "2020"}))
    inactive = record(client, service, "5", consent("5", status="inactive"))
    other_study = record(
        client, service, "6", consent("6", nested=[{"type": "deny", "extension": [study_ext("x")]}])
    )
    unknown = "f" * 64
    asked = [unknown, expired, permit, deny, other_study, nested, inactive]

    cached = ask(channel, STUDY, asked)
    from_ledger = ask(channel, STUDY, asked, from_ledger=True)

    assert cached.permitted == [permit, other_study]
    assert from_ledger.permitted == [permit, other_study]
    assert (cached.source, from_ledger.source) == ("cache", "ledger")
    assert from_ledger.block_height == ledger.block + 1


def test_a_revoked_patient_leaves_the_filter_as_soon_as_the_revocation_commits(
    client: ApiClient, service: ConsentService, channel: grpc.Channel
) -> None:
    patient = record(client, service, "7", consent("7"))
    assert ask(channel, STUDY, [patient]).permitted == [patient]

    response = client.delete(f"/consents/{MRN}|7", study=STUDY)

    assert response.status_code == 201
    assert ask(channel, STUDY, [patient]).permitted == []
    assert ask(channel, STUDY, [patient], from_ledger=True).permitted == []


def test_a_height_the_cache_has_not_reached_is_answered_by_the_ledger(
    client: ApiClient, service: ConsentService, channel: grpc.Channel, ledger: FakeLedger
) -> None:
    patient = record(client, service, "8", consent("8"))
    answer = ask(channel, STUDY, [patient], min_block_height=ledger.block + 50)
    assert answer.source == "ledger"
    assert answer.permitted == [patient]


def test_a_hundred_thousand_pseudonyms_fit_in_one_request(
    client: ApiClient, service: ConsentService, channel: grpc.Channel
) -> None:
    patient = record(client, service, "9", consent("9"))
    many = [f"{i:064x}" for i in range(99_999)] + [patient]

    assert ask(channel, STUDY, many).permitted == [patient]
    with pytest.raises(grpc.RpcError) as too_many:
        ask(channel, STUDY, [*many, patient])
    assert too_many.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_bad_requests_are_invalid_argument(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as bad_pseudonym:
        ask(channel, STUDY, ["not-hex"])
    with pytest.raises(grpc.RpcError) as bad_study:
        ask(channel, "purpose:NOPE", ["a" * 64])
    assert bad_pseudonym.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert bad_study.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_the_health_service_reports_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = stub.Check(health_pb2.HealthCheckRequest(service="medchain.v1.ConsentService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
