"""Local-coded features: a hospital's own code system feeds columns, keyed by code and unit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from medchain.common.datasets import breast_cancer
from medchain.demo.tables import breast_cancer_coding
from medchain.ingest.errors import FeatureSpecError
from medchain.ingest.features import FeatureSpec, LabelDefinition, ObservationFeature
from medchain.ingest.service import IngestService
from medchain.trainer.datasource import ingest_feature_spec

from .conftest import FhirClient, client_for, make_service, make_settings

DATA = breast_cancer()
CODING = breast_cancer_coding(DATA.feature_names)


@pytest.fixture
def local_client(database_url: str, tmp_path: Path) -> Iterator[FhirClient]:
    settings = make_settings(
        database_url, tmp_path / "home", local_code_systems=frozenset({CODING.local_system})
    )
    yield from client_for(make_service(settings), tmp_path / "home")


def _spec() -> FeatureSpec:
    return ingest_feature_spec(CODING.features())


def test_local_codes_become_columns_and_the_label_stays_out(local_client: FhirClient) -> None:
    rows = [0, 1, 19, 20]  # two malignant (target 0), two benign (target 1)
    response = local_client.post("/fhir", CODING.patient_bundle(DATA, rows, "h1"))
    assert response.status_code == 200, response.text

    spec = _spec()
    service: IngestService = local_client.service
    cohort = service.cohort(spec)
    feature_rows = service.feature_rows(spec, cohort)

    assert len(cohort) == 4
    assert "malignant" not in spec.columns
    assert len(spec.columns) == 30
    by_radius = sorted(feature_rows, key=lambda r: r.values[0])
    expected = sorted(rows, key=lambda r: DATA.features[r, 0])
    for row, source in zip(by_radius, expected, strict=True):
        assert np.allclose(row.values, DATA.features[source])
        assert row.label == (1.0 if DATA.targets[source] == 0 else 0.0)


def test_a_value_in_another_unit_is_missing_not_wrong(local_client: FhirClient) -> None:
    bundle = CODING.patient_bundle(DATA, [3], "h1")
    first = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    first["resource"]["valueQuantity"].update({"unit": "mm", "code": "mm"})
    assert local_client.post("/fhir", bundle).status_code == 200

    service: IngestService = local_client.service
    assert service.cohort(_spec()) == []


def test_an_undeclared_local_system_is_refused(client: FhirClient) -> None:
    spec = FeatureSpec(
        observations=(
            ObservationFeature("radius", "mean-radius", CODING.local_system, "1"),
            ObservationFeature("glucose", "2345-7"),
        ),
        conditions=(),
        include_age=False,
        include_sex=False,
        label=LabelDefinition("high_glucose", "glucose", 126.0),
    )
    with pytest.raises(FeatureSpecError, match="local systems"):
        client.service.feature_rows(spec)
