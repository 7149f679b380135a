"""`/fhir` over HTTP on SQLite and PostgreSQL: transactions, batches, single resources, limits."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.unit.ingest.conftest import FhirClient
from tests.unit.ingest.examples import (
    MRN,
    PATIENT_URL,
    bundle,
    condition,
    entry,
    glucose,
    hl7_transaction,
    patient,
)


def _expressions(outcome: dict[str, Any]) -> list[str]:
    return [e for issue in outcome["issue"] for e in issue.get("expression", [])]


def _resources(client: FhirClient) -> dict[str, int]:
    counts: dict[str, int] = client.get("/stats").json()["resources"]
    return counts


def test_transaction_stores_everything_and_answers_in_request_order(client: FhirClient) -> None:
    response = client.post("/fhir", hl7_transaction())

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["type"] == "transaction-response"
    locations = [e["response"]["location"].split("/")[0] for e in body["entry"]]
    assert locations == [
        "Patient",
        "Encounter",
        "Observation",
        "Condition",
        "MedicationRequest",
        "Practitioner",
    ]
    assert {e["response"]["status"] for e in body["entry"]} == {"201 Created"}
    assert "outcome" in body["entry"][5]["response"]  # Practitioner: stored raw, not used
    assert "outcome" not in body["entry"][2]["response"]
    patient_id = body["entry"][0]["response"]["location"].split("/")[1]
    observation = client.get(
        "/fhir/" + "/".join(body["entry"][2]["response"]["location"].split("/")[:2])
    ).json()
    assert observation["subject"]["reference"] == f"Patient/{patient_id}"
    assert observation["encounter"]["reference"].startswith("Encounter/")
    assert observation["meta"]["versionId"] == "1"


def test_resending_a_transaction_updates_and_never_duplicates(client: FhirClient) -> None:
    first = client.post("/fhir", hl7_transaction()).json()
    before = _resources(client)

    second = client.post("/fhir", hl7_transaction()).json()

    assert _resources(client) == before
    assert [e["response"]["status"] for e in second["entry"]] == ["200 OK"] * 6
    assert [e["response"]["location"].rsplit("/", 2)[0] for e in second["entry"]] == [
        e["response"]["location"].rsplit("/", 2)[0] for e in first["entry"]
    ]
    assert second["entry"][0]["response"]["location"].endswith("/_history/1")  # ifNoneExist matched
    assert second["entry"][2]["response"]["location"].endswith("/_history/2")


def test_same_patient_identifier_under_another_fullurl_updates_the_stored_patient(
    client: FhirClient,
) -> None:
    client.post("/fhir", bundle("transaction", entry(patient(), PATIENT_URL)))
    again = patient(gender="female")
    other_url = "urn:uuid:7f1a43a6-6d0f-4b43-8b1a-1f2b3c4d5e6f"

    response = client.post(
        "/fhir", bundle("transaction", entry(again, other_url), entry(glucose(subject=other_url)))
    )

    assert response.status_code == 200
    assert _resources(client)["Patient"] == 1
    stored = client.get("/fhir/Patient/" + PATIENT_URL.removeprefix("urn:uuid:")).json()
    assert stored["gender"] == "female"
    assert client.get("/stats").json()["patients"] == 1


def test_a_transaction_with_one_bad_entry_stores_nothing(client: FhirClient) -> None:
    broken = hl7_transaction()
    broken["entry"][2]["resource"]["status"] = "done"  # not in the required binding

    response = client.post("/fhir", broken)

    assert response.status_code == 422
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "Bundle.entry[2].resource.status" in _expressions(outcome)
    assert _resources(client) == {}


def test_batch_entries_stand_alone(client: FhirClient) -> None:
    bad = glucose(unit="mg")  # not an accepted UCUM unit for glucose
    batch = bundle("batch", entry(patient(), PATIENT_URL), entry(bad), entry(glucose()))

    response = client.post("/fhir", batch)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created", "422 Unprocessable Entity", "201 Created"]
    assert _expressions(body["entry"][1]["response"]["outcome"]) == [
        "Bundle.entry[1].resource.value"
    ]
    assert _resources(client) == {"Observation": 1, "Patient": 1}


def test_collection_is_stored_all_or_nothing(client: FhirClient) -> None:
    collection = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": PATIENT_URL, "resource": patient()}, {"resource": condition()}],
    }

    assert client.post("/fhir", collection).status_code == 200
    assert _resources(client) == {"Condition": 1, "Patient": 1}


def test_unresolvable_reference_is_rejected(client: FhirClient) -> None:
    dangling = bundle("transaction", entry(glucose(subject="Patient/nobody")))

    response = client.post("/fhir", dangling)

    assert response.status_code == 422
    assert "Bundle.entry[0].resource" in _expressions(response.json())
    assert "does not resolve" in response.text


def test_reference_to_a_stored_patient_resolves(client: FhirClient) -> None:
    created = client.post("/fhir/Patient", patient())
    assert created.status_code == 201
    patient_id = created.json()["id"]

    response = client.post(
        "/fhir", bundle("transaction", entry(glucose(subject=f"Patient/{patient_id}")))
    )

    assert response.status_code == 200


def test_single_resource_created_then_updated_by_id(client: FhirClient) -> None:
    client.post("/fhir/Patient", patient(id="p1"))
    observation = glucose(subject="Patient/p1", id="obs-1")

    created = client.post("/fhir/Observation", observation)
    observation["valueQuantity"]["value"] = 7.1
    updated = client.post("/fhir/Observation", observation)

    assert (created.status_code, updated.status_code) == (201, 200)
    assert updated.headers["location"] == "Observation/obs-1/_history/2"
    stored = client.get("/fhir/Observation/obs-1").json()
    assert stored["valueQuantity"]["value"] == 7.1
    assert _resources(client)["Observation"] == 1


def test_resource_type_must_match_the_url(client: FhirClient) -> None:
    response = client.post("/fhir/Observation", patient())

    assert response.status_code == 422
    assert _resources(client) == {}


def test_unknown_resource_is_404_with_an_outcome(client: FhirClient) -> None:
    response = client.get("/fhir/Patient/missing")

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unparseable_bodies_are_400(client: FhirClient) -> None:
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe", b'{"no": "resourceType"}'):
        response = client.post("/fhir", body)
        assert response.status_code == 400, body
        assert response.json()["resourceType"] == "OperationOutcome"


def test_a_non_bundle_or_wrong_bundle_type_is_422(client: FhirClient) -> None:
    assert client.post("/fhir", patient()).status_code == 422
    response = client.post("/fhir", bundle("searchset"))
    assert response.status_code == 422
    assert "Bundle.type" in _expressions(response.json())


def test_conditional_create_with_another_search_is_refused(client: FhirClient) -> None:
    response = client.post(
        "/fhir", bundle("transaction", entry(patient(), ifNoneExist="name=Chalmers"))
    )

    assert response.status_code == 422
    assert "Bundle.entry[0].request.ifNoneExist" in _expressions(response.json())


def test_unsupported_method_names_the_entry(client: FhirClient) -> None:
    response = client.post(
        "/fhir", bundle("transaction", entry(patient(), method="DELETE", url="Patient/1"))
    )

    assert response.status_code == 422
    assert "Bundle.entry[0].request.method" in _expressions(response.json())


def test_the_same_identifier_twice_in_one_bundle_is_a_duplicate(client: FhirClient) -> None:
    twins = bundle("transaction", entry(patient()), entry(patient(gender="female")))

    response = client.post("/fhir", twins)

    assert response.status_code == 422
    assert any(i["code"] == "duplicate" for i in response.json()["issue"])


def test_pseudonym_mapping_and_features_hold_no_names(client: FhirClient) -> None:
    client.post("/fhir", hl7_transaction())

    stats = client.get("/stats").json()

    assert stats["patients"] == 1
    assert "Chalmers" not in json.dumps(stats)
    assert stats["completeness"]["glucose"] == 1.0
    assert stats["completeness"]["type2_diabetes"] == 1.0


def test_entry_and_size_limits_answer_413(client: FhirClient) -> None:
    settings = client.service.settings
    many = bundle(
        "batch", *[entry(copy.deepcopy(patient(str(i)))) for i in range(settings.max_entries + 1)]
    )
    huge = (
        b'{"resourceType": "Bundle", "type": "batch", "pad": "'
        + b"x" * settings.max_body_bytes
        + b'"}'
    )

    assert client.post("/fhir", many).status_code == 413
    assert client.post("/fhir", huge).status_code == 413
    assert _resources(client) == {}


def test_missing_key_is_401_and_another_hospitals_key_is_403(client: FhirClient) -> None:
    other = client.keys.issue("h2", "hospital-it").token

    anonymous = client.http.post("/fhir", content=json.dumps(hl7_transaction()))
    foreign = client.http.post(
        "/fhir", content=json.dumps(hl7_transaction()), headers={"Authorization": f"Bearer {other}"}
    )
    forged = client.http.get(
        "/stats", headers={"Authorization": "Bearer mck.h1.0123456789abcdef." + "A" * 43}
    )

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert foreign.status_code == 403
    assert forged.status_code == 401
    assert client.http.get("/healthz").status_code == 401
    assert (
        client.http.get("/metrics", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    )
    assert client.get("/healthz").json()["status"] == "ok"
    assert "medchain_http_requests_total" in client.get("/metrics").text
    assert MRN not in client.get("/metrics").text


def test_an_unusual_entry_envelope_is_checked_by_the_model_at_its_own_index(
    client: FhirClient,
) -> None:
    odd = entry(glucose())
    odd["search"] = {"score": "high"}  # only the R4B model checks this element
    odd["request"]["method"] = "POST"

    response = client.post("/fhir", bundle("transaction", entry(patient(), PATIENT_URL), odd))

    assert response.status_code == 422
    assert any(e.startswith("Bundle.entry[1].search") for e in _expressions(response.json()))


def test_feature_tables_hold_no_names_addresses_or_contacts(client: FhirClient) -> None:
    import sqlalchemy as sa

    client.post("/fhir", hl7_transaction())
    engine = client.service.sessions.kw["bind"]
    feature_tables = ("patients", "observation_facts", "condition_facts")

    with engine.connect() as connection:
        dumped = " ".join(
            str(row)
            for table in feature_tables
            for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
        )
        mapping = connection.execute(
            sa.text("SELECT system, value, pseudonym FROM patient_identifiers")
        ).all()

    for personal in ("Chalmers", "Peter", "Erewhon", "PleasantVille", "5555 6473", MRN):
        assert personal not in dumped
    assert [(system, value) for system, value, _ in mapping] == [(MRN, "12345")]
    assert mapping[0][2] in dumped  # features are keyed by the pseudonym


def test_concurrent_resends_neither_fail_nor_duplicate(client: FhirClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body = json.dumps(hl7_transaction()).encode()

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: client.post("/fhir", body).status_code, range(8)))

    assert set(statuses) <= {200, 409}  # 409 only after losing the race twice
    assert 200 in statuses
    assert _resources(client) == {
        "Condition": 1,
        "Encounter": 1,
        "MedicationRequest": 1,
        "Observation": 1,
        "Patient": 1,
        "Practitioner": 1,
    }


def test_concurrent_anonymous_resources_are_stored_once(client: FhirClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client.post("/fhir/Patient", patient(id="p1"))
    anonymous = bundle(
        "transaction",
        entry(glucose(subject="Patient/p1")),
        entry(glucose(7.7, subject="Patient/p1", when="2026-04-03T09:30:10+01:00")),
    )
    body = json.dumps(anonymous).encode()

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: client.post("/fhir", body).status_code, range(8)))

    assert set(statuses) <= {200, 409}
    assert _resources(client) == {"Observation": 2, "Patient": 1}
