"""Routes: every page renders from the aggregator and the ledger, works without JavaScript, and
the REST API keeps its paths and JSON."""

from __future__ import annotations

import json
import re
import threading
import time
from html.parser import HTMLParser

from fastapi import FastAPI
from fastapi.testclient import TestClient

from medchain.aggregator.app import build_http_app
from medchain.dashboard.service import DashboardService
from tests.unit.dashboard.conftest import STUDY_ID, World, spec
from tests.unit.dashboard.test_consent_counts import history


class Outline(HTMLParser):
    """What an accessibility check needs: the language, headings, landmarks, forms."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.h1 = 0
        self.main = False
        self.skip_link = False
        self.forms: list[dict[str, str | None]] = []
        self.table_rows: dict[str, int] = {}
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "html":
            self.lang = attr.get("lang") or ""
        elif tag == "h1":
            self.h1 += 1
        elif tag == "main":
            self.main = attr.get("id") == "main"
        elif tag == "a" and attr.get("href") == "#main":
            self.skip_link = True
        elif tag == "form":
            self.forms.append(attr)
        elif tag == "table" and attr.get("id"):
            self._table = attr["id"]
            self.table_rows[self._table or ""] = 0
        elif tag == "tr" and self._table and attr.get("data-round"):
            self.table_rows[self._table] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


def assert_page(html: str) -> Outline:
    page = outline(html)
    assert page.lang == "en"
    assert page.h1 == 1
    assert page.main
    assert page.skip_link
    return page


def test_studies_list_at_the_root(client: TestClient, world: World) -> None:
    empty = client.get("/")
    assert empty.status_code == 200
    assert "No studies yet" in empty.text
    world.add_study(spec(), committed=1)
    response = client.get("/")
    assert response.headers["content-type"].startswith("text/html")
    assert_page(response.text)
    assert f'href="/dashboard/studies/{STUDY_ID}"' in response.text
    assert "1 / 3" in response.text


def test_study_page_has_rounds_chart_data_endorsers_and_live_stream(
    client: TestClient, world: World
) -> None:
    world.add_study(spec(), committed=2)
    response = client.get(f"/dashboard/studies/{STUDY_ID}")
    assert response.status_code == 200
    page = assert_page(response.text)
    assert page.table_rows["rounds-table"] == 2
    charts = [
        json.loads(m) for m in re.findall(r'class="chart-data">(.*?)</script>', response.text, re.S)
    ]
    assert [c["metric"] for c in charts] == ["accuracy", "log_loss"]
    assert all(len(s["values"]) == 2 for c in charts for s in c["series"])
    assert "h1MSP, h2MSP" in response.text  # endorsers read from the ledger
    assert "MAJORITY of h1MSP, h2MSP, h3MSP" in response.text
    assert f'data-events="/studies/{STUDY_ID}/events"' in response.text
    assert "01010101" in response.text  # commit transaction id
    fragment = client.get(f"/dashboard/studies/{STUDY_ID}/live")
    assert "<html" not in fragment.text
    assert 'id="rounds-table"' in fragment.text


def test_unknown_pages_are_html_404s(client: TestClient) -> None:
    for path in ("/dashboard/studies/nope", "/dashboard/models/" + "e" * 64, "/studies/x/events"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert_page(response.text)
    assert client.get("/dashboard/consent/h9MSP").status_code == 404


def test_rest_api_is_intact_and_the_dashboard_stays_out_of_its_schema(
    client: TestClient, world: World
) -> None:
    world.add_study(spec(), committed=1)
    studies = client.get("/studies")
    assert studies.headers["content-type"] == "application/json"
    assert [s["id"] for s in studies.json()] == [STUDY_ID]
    assert client.get(f"/studies/{STUDY_ID}").json()["id"] == STUDY_ID
    assert [r["round"] for r in client.get(f"/studies/{STUDY_ID}/rounds").json()] == [1]
    assert client.get("/studies/nope").json() == {"detail": "no study 'nope'"}
    paths = set(client.get("/openapi.json").json()["paths"])
    assert "/studies/{study_id}" in paths
    assert not {p for p in paths if p == "/" or p.startswith(("/dashboard", "/static"))}
    assert "/studies/{study_id}/events" not in paths


def events_of(client: TestClient, path: str) -> list[tuple[str, dict[str, object]]]:
    out: list[tuple[str, dict[str, object]]] = []
    with client.stream("GET", path) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                out.append((name, json.loads(line.removeprefix("data: "))))
    return out


def test_event_stream_of_a_finished_study_says_hello_and_ends(
    client: TestClient, world: World
) -> None:
    world.add_study(spec(rounds=2), committed=2, status="completed")
    assert events_of(client, f"/studies/{STUDY_ID}/events") == [
        ("hello", {"rounds": 2, "status": "completed"}),
        ("end", {"rounds": 2, "status": "completed"}),
    ]


def test_event_stream_announces_each_committed_round(client: TestClient, world: World) -> None:
    study = spec(rounds=3)
    hashes = world.add_study(study, committed=1)

    def run_rounds() -> None:
        time.sleep(0.2)
        world.advance(study, hashes, "running")
        time.sleep(0.2)
        world.advance(study, hashes, "completed")

    runner = threading.Thread(target=run_rounds)
    runner.start()
    try:
        events = events_of(client, f"/studies/{STUDY_ID}/events")
    finally:
        runner.join()
    # The stream may open after the runner's first step on a loaded machine, so `hello` reports
    # 1 or 2 rounds; every round committed after it must then be announced, in order, then `end`.
    names = [name for name, _ in events]
    assert names[0] == "hello"
    assert names[-2:] == ["round", "end"]
    assert events[-1][1] == {"rounds": 3, "status": "completed"}
    counts = [int(str(data["rounds"])) for _, data in events]
    assert counts == sorted(counts)
    first = events[0][1]["rounds"]
    assert first in (1, 2)
    announced = [data["rounds"] for name, data in events if name == "round"]
    assert announced == list(range(first + 1, 4))


def test_model_page_and_verify_without_javascript(client: TestClient, world: World) -> None:
    hashes = world.add_study(spec(), committed=2)
    page = client.get(f"/dashboard/models/{hashes[-1]}")
    assert page.status_code == 200
    form = assert_page(page.text).forms[0]
    assert form["method"] == "post"
    assert form["action"] == f"/dashboard/models/{hashes[-1]}/verify"
    assert hashes[1][:12] in page.text  # the parent in the lineage
    verified = client.post(f"/dashboard/models/{hashes[-1]}/verify")
    assert verified.status_code == 200
    assert_page(verified.text)
    assert 'data-verified="true"' in verified.text
    assert "Verified: all" in verified.text


def test_verify_from_htmx_returns_the_result_only_and_reports_tampering(
    client: TestClient, world: World
) -> None:
    hashes = world.add_study(spec(), committed=1)
    world.models.path(hashes[-1]).write_bytes(world.models.raw(hashes[0]))
    response = client.post(f"/dashboard/models/{hashes[-1]}/verify", headers={"HX-Request": "true"})
    assert "<html" not in response.text
    assert 'data-verified="false"' in response.text
    assert "Verification failed" in response.text


def test_consent_pages_show_counts_and_no_pseudonyms(
    client: TestClient, world: World, dashboard: DashboardService
) -> None:
    world.reads.events_given = history()
    assert dashboard.consents is not None
    dashboard.consents.start()
    deadline = time.monotonic() + 5
    while dashboard.consents.tally.last_block != 9 and time.monotonic() < deadline:
        time.sleep(0.01)
    index = client.get("/dashboard/consent")
    assert_page(index.text)
    assert 'href="/dashboard/consent/h1MSP"' in index.text
    page = client.get("/dashboard/consent/h1MSP")
    assert page.status_code == 200
    assert_page(page.text)
    assert re.search(r'class="count-permit">\s*3\s*<', page.text)
    assert re.search(r'class="count-revoked">\s*1\s*<', page.text)
    for pseudonym in ("p1", "p2", "p3", "q1"):
        assert f">{pseudonym}<" not in page.text
        assert f'"{pseudonym}"' not in page.text
    # A hospital of the channel with no consent events yet still has a page.
    assert client.get("/dashboard/consent/h3MSP").status_code == 200


def test_network_page_lists_every_node(client: TestClient) -> None:
    response = client.get("/dashboard/network")
    assert response.status_code == 200
    assert_page(response.text)
    for name in ("orderer0", "peer0.h1", "peer0.h2"):
        assert f">{name}<" in response.text
    assert "✘ down" in response.text
    assert "degraded" in response.text
    assert ">17<" in response.text


def test_vendor_files_are_pinned_and_missing_ones_are_not_fetched_when_told(
    client: TestClient,
) -> None:
    assert client.get("/static/vendor/other.js").status_code == 404
    missing = client.get("/static/vendor/htmx.min.js")
    assert missing.status_code == 503
    assert "python -m medchain.dashboard.assets" in missing.text
    assert client.get("/static/dashboard/dashboard.css").status_code == 200


def test_the_aggregator_mounts_the_dashboard_by_default(world: World) -> None:
    """Without a ledger profile or a local network the dashboard still serves every page."""
    app: FastAPI = build_http_app(world.service, resume=False)
    dashboard = app.state.dashboard
    assert isinstance(dashboard, DashboardService)
    assert dashboard.reads is None
    assert dashboard.network is None
    world.add_study(spec(), committed=1)
    with TestClient(app) as client:
        assert client.get(f"/dashboard/studies/{STUDY_ID}").status_code == 200
        assert "not readable" in client.get(f"/dashboard/studies/{STUDY_ID}").text
        network = client.get("/dashboard/network")
        assert "No node status" in network.text
        consent = client.get("/dashboard/consent/h1MSP")
        assert "no ledger connection is configured" in consent.text
