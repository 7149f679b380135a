"""The REST API over a fake ledger on SQLite and PostgreSQL: status codes, OperationOutcomes,
proofs, revocation, and that bad input records nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medchain.consent.service import ConsentService
from medchain.ledger import LedgerUnavailable
from tests.unit.consent.conftest import (
    ApiClient,
    client_for,
    make_service,
    make_settings,
    wait_until,
)
from tests.unit.consent.examples import MRN, compact, consent, with_value
from tests.unit.consent.fake_ledger import FakeLedger

FHIR = "application/fhir+json"


def _issues(response: Any) -> list[tuple[str, str | None]]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return [(i["code"], (i.get("expression") or [None])[0]) for i in body["issue"]]


def test_a_fhir_consent_commits_and_is_stored_with_its_hash_on_the_ledger(
    client: ApiClient, ledger: FakeLedger
) -> None:
    response = client.post("/fhir/Consent", consent(purposes=("HRESCH",)), FHIR)

    assert response.status_code == 201
    assert response.headers["content-type"].startswith(FHIR)
    stored = response.json()
    assert response.headers["location"] == f"/fhir/Consent/{stored['id']}"
    assert client.get(response.headers["location"]).json() == stored
    assert {c.study for c in ledger.state.values()} == {"diabetes-2026", "purpose:HRESCH"}
    hashes = {c.document_hash for c in ledger.state.values()}
    assert len(hashes) == 1  # one document, its canonical SHA-256 on both keys


def test_an_invalid_consent_is_an_operation_outcome_and_records_nothing(
    client: ApiClient, service: ConsentService, ledger: FakeLedger
) -> None:
    response = client.post("/fhir/Consent", with_value(consent(), "approved", "status"), FHIR)

    assert response.status_code == 422
    assert ("code-invalid", "Consent.status") in _issues(response)
    assert ledger.write_calls == 0
    assert service.outbox.totals["committed"] == 0


def test_a_body_that_is_not_json_is_a_400(client: ApiClient) -> None:
    response = client.post("/fhir/Consent", b"{not json", FHIR)
    assert response.status_code == 400
    assert _issues(response)[0][0] == "structure"


def test_a_compact_batch_commits_in_one_transaction(client: ApiClient, ledger: FakeLedger) -> None:
    items = [compact(str(i)) for i in range(50)]
    response = client.post("/consents", {"consents": items})

    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "committed"
    assert body["counts"] == {"pending": 0, "committed": 50, "rejected": 0}
    assert len({c["txId"] for c in body["changes"]}) == 1
    assert ledger.batches == [50]


def test_one_bad_item_rejects_the_whole_batch_and_names_it(
    client: ApiClient, ledger: FakeLedger
) -> None:
    items = [compact("1"), compact("2", study=None), compact("3", end="2020", start="2024")]
    response = client.post("/consents", {"consents": items})

    assert response.status_code == 422
    expressions = {e for _, e in _issues(response)}
    assert {"consents[1]", "consents[2]"} <= expressions
    assert ledger.write_calls == 0


def test_the_batch_limit_is_enforced(service: ConsentService, client: ApiClient) -> None:
    limit = service.settings.max_changes_per_request
    response = client.post("/consents", {"consents": [compact(str(i)) for i in range(limit + 1)]})
    assert response.status_code == 413


def test_a_ledger_outage_answers_202_with_a_status_url_that_later_shows_the_commit(
    database_url: str, tmp_path: Path
) -> None:
    ledger = FakeLedger()
    ledger.fail_before_order += [LedgerUnavailable("peer down", phase="endorse")] * 10_000
    service = make_service(
        make_settings(database_url, tmp_path, commit_deadline_seconds=0.2), ledger
    )
    service.start()
    try:
        with client_for(service, tmp_path / "keys") as client:
            response = client.post("/consents", {"consents": [compact("1")]})
            assert response.status_code == 202
            status_url = response.headers["location"]
            assert response.json()["statusUrl"] == status_url
            assert client.get(status_url).json()["state"] == "pending"

            ledger.fail_before_order.clear()  # the peer is back
            wait_until(lambda: client.get(status_url).json()["state"] == "committed")
    finally:
        service.stop()
    assert ledger.batches == [1]


def test_current_consents_come_from_the_ledger_with_a_proof(
    client: ApiClient, ledger: FakeLedger
) -> None:
    client.post("/consents", {"consents": [compact("42"), compact("42", purpose_code="HRESCH",
                                                                   study=None)]})  # fmt: skip
    response = client.get(f"/consents/{MRN}|42")

    assert response.status_code == 200
    body = response.json()
    assert len(body["patient"]) == 64
    assert [c["study"] for c in body["consents"]] == ["diabetes-2026", "purpose:HRESCH"]
    first = body["consents"][0]
    assert (first["decision"], first["status"], first["permitsNow"]) == ("permit", "active", True)
    proof = first["proof"]
    assert proof["blockNumber"] == ledger.transactions[proof["txId"]][0]
    assert proof["endorsingOrgs"] == ["h1MSP", "h2MSP"]
    assert client.get(f"/consents/{body['patient']}").json() == body  # by pseudonym too


def test_revocation_then_history(client: ApiClient) -> None:
    client.post("/consents", {"consents": [compact("9")]})

    revoked = client.delete(f"/consents/{MRN}|9", study="diabetes-2026")
    again = client.delete(f"/consents/{MRN}|9", study="diabetes-2026")
    history = client.get(f"/consents/{MRN}|9/history").json()["history"]

    assert revoked.status_code == 201
    assert again.status_code == 409
    assert [(h["status"], h["version"]) for h in history] == [("active", 1), ("revoked", 2)]
    current = client.get(f"/consents/{MRN}|9").json()["consents"][0]
    assert (current["status"], current["permitsNow"]) == ("revoked", False)


def test_reads_need_the_ledger_and_say_so_when_it_is_away(
    client: ApiClient, ledger: FakeLedger
) -> None:
    client.post("/consents", {"consents": [compact("5")]})
    ledger.read_errors.append(LedgerUnavailable("peer down", phase="evaluate"))

    response = client.get(f"/consents/{MRN}|5")

    assert response.status_code == 503
    assert _issues(response)[0][0] == "exception"


def test_unknown_patients_and_consents_are_404_and_record_nothing(
    client: ApiClient, ledger: FakeLedger
) -> None:
    assert client.get(f"/consents/{MRN}|nobody").status_code == 404
    assert client.delete(f"/consents/{MRN}|nobody", study="diabetes-2026").status_code == 404
    assert client.get("/submissions/" + "0" * 32).status_code == 404
    assert client.get("/consents/not-an-identifier").status_code == 422
    assert ledger.write_calls == 0


def test_keys_are_required_and_must_be_this_hospitals(client: ApiClient) -> None:
    anonymous = client.http.get("/consents/" + "a" * 64)
    other = client.keys.issue("h2", "their-it").token
    foreign = client.http.get("/healthz", headers={"Authorization": f"Bearer {other}"})

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert foreign.status_code == 403
    assert _issues(foreign)[0][0] == "security"


def test_operational_routes_and_openapi(client: ApiClient) -> None:
    assert client.get("/healthz").json()["checks"] == {
        "database": True,
        "outbox": True,
        "ledger_events": True,
    }
    client.post("/consents", {"consents": [compact("1")]})
    metrics = client.get("/metrics").text
    assert 'medchain_consent_changes_total{outcome="committed"} 1.0' in metrics
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/fhir/Consent",
        "/consents",
        "/consents/{patient}",
        "/consents/{patient}/history",
        "/submissions/{submission_id}",
    } <= set(paths)
    assert set(paths["/consents/{patient}"]) == {"get", "delete"}
