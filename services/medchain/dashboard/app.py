"""Mounts the dashboard into the aggregator's FastAPI app: pages, static files, vendor scripts.

By default the dashboard reads the ledger with the aggregator's own identity (its connection
profile) and inspects the Fabric network brought up under the same MEDCHAIN_HOME, when there is
one; tests and other deployments put their own `DashboardService` in `app.state.dashboard`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from medchain.aggregator.service import AggregatorService
from medchain.aggregator.settings import get_aggregator_settings
from medchain.dashboard import api, formatting
from medchain.dashboard.assets import VendorFiles, default_assets_dir
from medchain.dashboard.ledger_reads import FabricLedgerReads, LedgerReads
from medchain.dashboard.network_status import local_network
from medchain.dashboard.service import DashboardService
from medchain.dashboard.settings import DashboardSettings, get_dashboard_settings
from medchain.ledger import ConnectionProfile, connect
from medchain.network.config import NetworkSettings

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    formatting.install(templates.env)
    return templates


def default_dashboard(service: AggregatorService, settings: DashboardSettings) -> DashboardService:
    """The aggregator's own ledger identity and the network under its MEDCHAIN_HOME, if any."""
    aggregator = get_aggregator_settings()
    reads: LedgerReads | None = None
    profile_path = aggregator.ledger_profile
    if profile_path is not None and profile_path.is_file():
        profile = ConnectionProfile.model_validate_json(profile_path.read_text())
        gateway = connect(profile)  # the channel opens on the first call, not here
        reads = FabricLedgerReads(gateway.get_network(aggregator.channel), aggregator.chaincode)
    network = local_network(NetworkSettings(home=aggregator.home), settings.network_status_ttl)
    return DashboardService(service, reads=reads, network=network)


def mount(
    app: FastAPI,
    service: AggregatorService,
    dashboard: DashboardService | None = None,
    settings: DashboardSettings | None = None,
) -> DashboardService:
    """Add the dashboard's routes and static files to the aggregator's app."""
    settings = settings or get_dashboard_settings()
    dashboard = dashboard or default_dashboard(service, settings)
    app.state.dashboard = dashboard
    app.state.dashboard_settings = settings
    app.state.dashboard_vendor = VendorFiles(
        settings.assets_dir or default_assets_dir(), fetch=settings.fetch_assets
    )
    app.mount("/static/dashboard", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    app.include_router(api.router(build_templates()))
    return dashboard
