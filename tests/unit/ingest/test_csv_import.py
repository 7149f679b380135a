"""`/import/csv`: the column grammar, idempotent re-imports, and errors named by line and column."""

from __future__ import annotations

import httpx

from tests.unit.ingest.conftest import FhirClient

MRN = "urn:oid:2.16.840.1.113883.19.5"
EXPORT = (
    "patient_id,birth_date,sex,date,loinc:4548-4[%],loinc:2345-7[mmol/L],icd10:E11,snomed:38341003\n"
    "A-1,1970-03-04,female,2025-05-01,7.1,5.5,1,0\n"
    "A-1,1970-03-04,female,2025-09-01,6.2,,1,0\n"
    "B-2,1988-11-30,male,2025-06-15,5.4,6.0,0,yes\n"
)


def _upload(client: FhirClient, text: str, system: str = MRN) -> httpx.Response:
    response: httpx.Response = client.http.post(
        "/import/csv",
        files={"file": ("export.csv", text.encode(), "text/csv")},
        data={"identifier_system": system},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    return response


def test_rows_become_patients_observations_and_conditions(client: FhirClient) -> None:
    response = _upload(client, EXPORT)

    assert response.status_code == 200
    stats = client.get("/stats").json()
    assert stats["resources"] == {"Condition": 2, "Observation": 5, "Patient": 2}
    assert stats["patients"] == 2
    spec = client.service.settings.feature_spec()
    rows = client.service.feature_rows(spec)
    columns = spec.columns
    assert "hba1c" not in columns  # the label's source never reaches the model as a feature
    by_age = sorted(rows, key=lambda r: r.values[columns.index("age")])
    older = dict(zip(columns, by_age[1].values, strict=True))
    assert by_age[1].label == 0.0  # HbA1c 6.2 (the later of two dates) is below 6.5
    assert round(older["glucose"], 3) == round(5.5 * 18.016, 3)  # converted to mg/dL
    assert (older["type2_diabetes"], older["hypertension"], older["sex"]) == (1.0, 0.0, 0.0)
    younger = dict(zip(columns, by_age[0].values, strict=True))
    assert (younger["hypertension"], younger["sex"]) == (1.0, 1.0)


def test_importing_the_same_file_twice_changes_no_counts(client: FhirClient) -> None:
    _upload(client, EXPORT)
    before = client.get("/stats").json()["resources"]

    again = _upload(client, EXPORT)

    assert again.status_code == 200
    assert client.get("/stats").json()["resources"] == before


def test_bad_cells_and_columns_are_named_and_nothing_is_stored(client: FhirClient) -> None:
    bad = (
        "patient_id,date,loinc:4548-4[mg],weight,icd10:E11\n"
        "A-1,2025-05-01,QNS,70,maybe\n"
        ",2025-13-01,7,70,1\n"
    )

    response = _upload(client, bad)

    assert response.status_code == 422
    expressions = {e for i in response.json()["issue"] for e in i.get("expression", [])}
    assert "csv.header['loinc:4548-4[mg]']" in expressions
    assert "csv.header['weight']" in expressions
    assert client.get("/stats").json()["resources"] == {}


def test_values_and_flags_are_checked_per_cell(client: FhirClient) -> None:
    response = _upload(
        client, "patient_id,date,loinc:4548-4[%],icd10:E11\nA-1,2025-05-01,QNS,maybe\n"
    )

    assert response.status_code == 422
    expressions = {e for i in response.json()["issue"] for e in i.get("expression", [])}
    assert expressions == {"csv.line[2].loinc:4548-4[%]", "csv.line[2].icd10:E11"}


def test_not_utf8_is_400_and_a_bar_in_the_system_is_422(client: FhirClient) -> None:
    assert _upload(client, "patient_id\n").status_code == 200
    latin1 = client.http.post(
        "/import/csv",
        files={"file": ("x.csv", "patient_id\nJos\xe9\n".encode("latin-1"), "text/csv")},
        data={"identifier_system": MRN},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert latin1.status_code == 400
    assert _upload(client, EXPORT, system="a|b").status_code == 422
