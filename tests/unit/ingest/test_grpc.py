"""The trainer gRPC API against a real server on port 0: cohort, feature stream, errors, health."""

from __future__ import annotations

import math
from collections.abc import Iterator

import grpc
import pytest
from carebundle import generate_bundle, to_json
from grpc_health.v1 import health_pb2, health_pb2_grpc

from medchain.common import serde
from medchain.ingest.app import build_grpc_server
from medchain.ingest.features import FeatureSpec, LabelDefinition, ObservationFeature
from medchain.ingest.service import IngestService
from medchain.v1 import ingest_pb2, ingest_pb2_grpc


@pytest.fixture
def channel(service: IngestService) -> Iterator[grpc.Channel]:
    for seed in range(3):
        service.ingest_bundle(
            to_json(generate_bundle(profile="type2_diabetes", seed=seed)).encode()
        )
    server, port = build_grpc_server(service, port=0)
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as chan:
            yield chan
    finally:
        server.stop(grace=1).wait()


def test_health_reports_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)

    reply = stub.Check(health_pb2.HealthCheckRequest(service="medchain.v1.IngestService"))

    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_cohort_then_stream_features_in_batches(
    channel: grpc.Channel, service: IngestService
) -> None:
    stub = ingest_pb2_grpc.IngestServiceStub(channel)

    cohort = stub.ListCohort(ingest_pb2.CohortRequest())
    batches = list(
        stub.StreamFeatures(
            ingest_pb2.FeatureRowsRequest(pseudonyms=cohort.pseudonyms, batch_size=2)
        )
    )

    spec = service.settings.feature_spec()
    assert list(cohort.columns) == list(spec.columns)
    assert cohort.label == spec.label.name
    assert len(cohort.pseudonyms) == 3
    assert [len(b.pseudonyms) for b in batches] == [2, 1]
    decoded = [serde.feature_batch_from_proto(b) for b in batches]
    expected = service.feature_rows(spec, list(cohort.pseudonyms))
    streamed = [
        (p, tuple(float(t.values[i]) for t in d.features), float(d.label.values[i]))
        for d in decoded
        for i, p in enumerate(d.pseudonyms)
    ]
    assert streamed == [(r.pseudonym, r.values, r.label) for r in expected]
    assert not any(math.isnan(v) for _, values, _ in streamed for v in values)


def test_a_study_spec_selects_the_columns(channel: grpc.Channel) -> None:
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    spec = FeatureSpec(
        observations=(ObservationFeature("ldl", "13457-7"), ObservationFeature("egfr", "98979-8")),
        conditions=(),
        include_age=False,
        include_sex=True,
        label=LabelDefinition("high_ldl", "ldl", 130.0),
    )
    message = serde.feature_spec_to_proto(spec)

    cohort = stub.ListCohort(ingest_pb2.CohortRequest(spec=message))
    (batch,) = stub.StreamFeatures(
        ingest_pb2.FeatureRowsRequest(spec=message, pseudonyms=cohort.pseudonyms)
    )

    # ldl feeds the label, so the model never sees it as a feature.
    assert list(cohort.columns) == ["egfr", "sex"]
    assert [t.name for t in batch.features.tensors] == ["egfr", "sex"]
    assert batch.label.name == "high_ldl"
    assert serde.feature_spec_from_proto(message) == spec


def test_unknown_pseudonym_is_not_found(channel: grpc.Channel) -> None:
    stub = ingest_pb2_grpc.IngestServiceStub(channel)

    with pytest.raises(grpc.RpcError) as caught:
        list(stub.StreamFeatures(ingest_pb2.FeatureRowsRequest(pseudonyms=["0" * 64])))

    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    "spec",
    [
        ingest_pb2.FeatureSpec(
            observations=[ingest_pb2.ObservationFeature(name="x", loinc="0000-0")],
            label=ingest_pb2.LabelDefinition(name="y", source="x"),
        ),
        ingest_pb2.FeatureSpec(
            include_age=True,
            label=ingest_pb2.LabelDefinition(name="y", source="age"),
            reference_date="2026-02-30",
        ),
    ],
    ids=["unknown-loinc", "bad-reference-date"],
)
def test_a_bad_spec_is_invalid_argument(
    channel: grpc.Channel, spec: ingest_pb2.FeatureSpec
) -> None:
    stub = ingest_pb2_grpc.IngestServiceStub(channel)

    with pytest.raises(grpc.RpcError) as caught:
        stub.ListCohort(ingest_pb2.CohortRequest(spec=spec))

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details()
