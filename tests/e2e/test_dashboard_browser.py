"""The dashboard in headless Chromium against a real aggregator on a real Fabric network.

The in-process federation of the training integration tests (real ingest, trainers and ledger,
on its own ports here) runs a 3-round study while the study page is open, so the page must follow
it live; then every page is visited with and without JavaScript, a model is verified, one of its
files is altered, and the same button must report the failure. Screenshots go to
test-output/dashboard/.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Page, Playwright, ViewportSize, sync_playwright

from medchain.aggregator.app import build_http_app
from medchain.aggregator.service import AggregatorService
from medchain.dashboard.assets import ensure_assets
from medchain.dashboard.ledger_reads import FabricLedgerReads
from medchain.dashboard.network_status import LocalNetworkProbe
from medchain.dashboard.service import DashboardService
from medchain.devtools.browser import CHROMIUM_FLAGS, BrowserUnavailableError, ensure_chromium
from medchain.ledger import Gateway, connect
from medchain.network.fabric_network import FabricNetwork
from tests.integration.conftest import make_network
from tests.integration.support import until_endorsable
from tests.integration.training.conftest import Federation, breast_cancer_federation
from tests.integration.training.test_federated_study import consent_all, pseudonym, spec_for

pytestmark = pytest.mark.e2e

#: Away from the integration tests (17000), the benchmarks (27000) and the demo test (37000).
FABRIC_BASE_PORT = 47000
ROUNDS = 3
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "dashboard"
#: A laptop screen.
VIEWPORT = ViewportSize(width=1366, height=768)


@dataclass
class Demo:
    base_url: str
    study_id: str
    service: AggregatorService
    dashboard: DashboardService

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@pytest.fixture(scope="module")
def chromium() -> Path:
    try:
        return ensure_chromium()
    except BrowserUnavailableError as exc:
        pytest.skip(f"no headless Chromium: {exc.message}")


@pytest.fixture(scope="module")
def dashboard_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FabricNetwork]:
    network = make_network(tmp_path_factory.mktemp("dashboard-fabric"), 3, FABRIC_BASE_PORT)
    try:
        network.up()
        yield network
    finally:
        network.clean()


@pytest.fixture(scope="module")
def dashboard_federation(
    dashboard_network: FabricNetwork, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    """The training tests' federation, built by the same code, on this module's network (and
    torn down with this module rather than at the end of the session)."""
    root = tmp_path_factory.mktemp("federation")
    with breast_cancer_federation(dashboard_network, root) as built:
        yield built


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo(
    chromium: Path,
    dashboard_network: FabricNetwork,
    dashboard_federation: Federation,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Demo]:
    ensure_assets()  # htmx and Chart.js, pinned, before the first page asks for them
    study_id = f"dash-{uuid.uuid4().hex[:8]}"
    consent_all(dashboard_federation, study_id)
    consent_all(dashboard_federation, f"{study_id}-other", decision="deny")
    h1 = dashboard_federation.hospitals["h1"]
    revoked = pseudonym(h1, h1.rows[-1])
    until_endorsable(lambda: h1.consents.revoke("h1MSP", revoked, study_id, secrets.token_hex(32)))
    service = dashboard_federation.aggregator(tmp_path_factory.mktemp("dashboard-aggregator"))
    service.create(spec_for(study_id, rounds=ROUNDS))
    gateway: Gateway = connect(dashboard_network.connection_profile("h2"))
    dashboard = DashboardService(
        service,
        reads=FabricLedgerReads(gateway.get_network("medchain")),
        network=LocalNetworkProbe(dashboard_network),
    )
    app = build_http_app(service, resume=False)
    app.state.dashboard = dashboard
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, name="dashboard-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the aggregator did not start serving"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield Demo(f"http://127.0.0.1:{port}", study_id, service, dashboard)
    finally:
        server.should_exit = True
        thread.join(15)
        dashboard.close()
        service.wait(study_id, 120)
        gateway.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@contextmanager
def chromium_context(
    playwright: Playwright, chromium: Path, profile: Path, *, javascript: bool = True
) -> Iterator[BrowserContext]:
    """Debian's Chromium on a fresh user data directory, at a laptop's screen size."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(chromium),
        headless=True,
        args=list(CHROMIUM_FLAGS),
        viewport=VIEWPORT,
        java_script_enabled=javascript,
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="module")
def browser(
    playwright: Playwright, chromium: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    with chromium_context(playwright, chromium, tmp_path_factory.mktemp("chromium")) as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    """A tab that fails the test on any script error or failed request."""
    tab = browser.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    tab.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    yield tab
    tab.close()
    assert problems == []


def shot(tab: Page, name: str) -> None:
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def chart_points(tab: Page, figure_id: str) -> list[int]:
    """Points per dataset of the Chart.js chart drawn in a figure."""
    points: list[int] = tab.evaluate(
        """(id) => {
            const chart = Chart.getChart(document.querySelector(`#${id} canvas`));
            return chart ? chart.data.datasets.map((d) => d.data.length) : [];
        }""",
        figure_id,
    )
    return points


def test_study_page_follows_a_running_study_live(demo: Demo, page: Page) -> None:
    page.goto(demo.url(f"/dashboard/studies/{demo.study_id}"))
    assert page.locator("h1").inner_text().startswith("Study")
    assert page.locator("#rounds-table tbody tr").count() == 0
    assert demo.service.start(demo.study_id)
    # No reload: the server-sent events bring each committed round into the page.
    page.wait_for_function(
        "(n) => document.querySelectorAll('#rounds-table tbody tr').length === n",
        arg=ROUNDS,
        timeout=300_000,
    )
    page.wait_for_selector(".live-note .status-completed", timeout=60_000)
    for figure in ("chart-accuracy", "chart-log_loss"):
        page.wait_for_function(
            "(id) => Chart.getChart(document.querySelector(`#${id} canvas`))", arg=figure
        )
        # One point per completed round, for the global model and each hospital.
        assert chart_points(page, figure) == [ROUNDS] * 4
    rows = page.locator("#rounds-table tbody tr")
    for index in range(ROUNDS):
        cells = rows.nth(index).locator("td")
        assert cells.nth(1).inner_text().strip().isdigit()  # block number
        endorsers = cells.nth(2).inner_text()
        assert endorsers.count("MSP") >= 2, endorsers  # a majority of three, from the ledger
    shot(page, "study")


def test_every_page_renders(demo: Demo, page: Page) -> None:
    assert demo.dashboard.consents is not None
    demo.dashboard.consents.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        timeline = demo.dashboard.consents.tally.timeline("h1MSP")
        if timeline and timeline[-1].revoked >= 1:
            break
        time.sleep(0.5)
    model = demo.service.ledger.get_study(demo.study_id).current_model_hash
    pages = {
        "studies": ("/", "Studies"),
        "model": (f"/dashboard/models/{model}", "Model"),
        "consent-index": ("/dashboard/consent", "Consent"),
        "consent-h1": ("/dashboard/consent/h1MSP", "Consent at h1MSP"),
        "network": ("/dashboard/network", "Fabric network"),
    }
    for name, (path, heading) in pages.items():
        response = page.goto(demo.url(path))
        assert response is not None
        assert response.status == 200, path
        assert page.locator("h1").inner_text().strip() == heading
        shot(page, name)
    page.goto(demo.url("/"))
    assert page.locator(f'a[href="/dashboard/studies/{demo.study_id}"]').count() == 1
    page.goto(demo.url("/dashboard/consent/h1MSP"))
    assert int(page.locator(".count-permit").inner_text()) > 0
    assert int(page.locator(".count-deny").inner_text()) > 0
    assert int(page.locator(".count-revoked").inner_text()) >= 1
    assert chart_points(page, "consent-chart")[0] >= 1
    page.goto(demo.url("/dashboard/network"))
    nodes = page.locator("tbody tr")
    assert nodes.count() == 9  # 3 orderers, 3 peers, 3 chaincode servers
    assert page.locator("text=✘ down").count() == 0
    heights = [
        nodes.nth(i).locator("td").last.inner_text()
        for i in range(nodes.count())
        if nodes.nth(i).locator("td").first.inner_text() == "peer"
    ]
    assert len(heights) == 3
    assert all(h.strip().isdigit() and int(h) > 5 for h in heights), heights


def test_keyboard_reaches_verify_and_the_model_verifies(demo: Demo, page: Page) -> None:
    model = demo.service.ledger.get_study(demo.study_id).current_model_hash
    page.goto(demo.url(f"/dashboard/models/{model}"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    assert page.evaluate("document.activeElement.textContent") == "Verify this model"
    page.keyboard.press("Enter")
    verdict = page.wait_for_selector("#audit [data-verified]", timeout=120_000)
    assert verdict is not None
    assert verdict.get_attribute("data-verified") == "true"
    assert "Verified: all" in page.locator("#audit").inner_text()
    assert page.url.endswith(f"/dashboard/models/{model}")  # swapped in, no navigation
    shot(page, "model-verified")


def test_pages_read_and_verify_without_javascript(
    demo: Demo,
    playwright: Playwright,
    chromium: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    profile = tmp_path_factory.mktemp("chromium-nojs")
    with chromium_context(playwright, chromium, profile, javascript=False) as context:
        tab = context.new_page()
        tab.goto(demo.url(f"/dashboard/studies/{demo.study_id}"))
        assert tab.locator("#rounds-table tbody tr").count() == ROUNDS
        assert tab.locator("#chart-accuracy canvas").is_hidden()
        table = tab.locator("#chart-accuracy details table tbody tr")
        assert table.count() == ROUNDS  # the chart's data, as a table
        shot(tab, "study-no-js")
        model = demo.service.ledger.get_study(demo.study_id).current_model_hash
        tab.goto(demo.url(f"/dashboard/models/{model}"))
        with tab.expect_navigation():
            tab.get_by_role("button", name="Verify this model").click()
        assert tab.locator("[data-verified]").get_attribute("data-verified") == "true"
        shot(tab, "model-verified-no-js")


def test_a_tampered_model_fails_verification(demo: Demo, page: Page) -> None:
    model = demo.service.ledger.get_study(demo.study_id).current_model_hash
    initial = demo.service.ledger.get_study(demo.study_id).initial_model_hash
    stored = demo.service.models.path(model)
    original = stored.read_bytes()
    stored.write_bytes(demo.service.models.raw(initial))  # valid tensors, the wrong ones
    try:
        page.goto(demo.url(f"/dashboard/models/{model}"))
        page.get_by_role("button", name="Verify this model").click()
        verdict = page.wait_for_selector("#audit [data-verified]", timeout=120_000)
        assert verdict is not None
        assert verdict.get_attribute("data-verified") == "false"
        text = page.locator("#audit").inner_text()
        assert "Verification failed" in text
        assert f"round {ROUNDS} model intact" in text
        shot(page, "model-tampered")
    finally:
        stored.write_bytes(original)
