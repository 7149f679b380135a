"""Routes of the dashboard: HTML pages, htmx fragments, the live event stream, vendor files.

Thin: each route asks `DashboardService` for a view model and renders a template. Pages live
under `/dashboard/` (the studies list also at `/`) so the REST API's paths keep their JSON.
A request from htmx (`HX-Request`) gets only the fragment it swaps in; any other gets the page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from medchain.common.errors import MedChainError, NotFoundError, UnavailableError, ValidationError
from medchain.common.logging import get_logger
from medchain.dashboard.assets import VendorFiles
from medchain.dashboard.service import DashboardService
from medchain.dashboard.settings import DashboardSettings

log = get_logger(__name__)
#: Seconds between keep-alive comments on an idle event stream (proxies drop silent ones).
KEEPALIVE_S = 15.0


def get_dashboard(request: Request) -> DashboardService:
    dashboard: DashboardService = request.app.state.dashboard
    return dashboard


def get_vendor(request: Request) -> VendorFiles:
    vendor: VendorFiles = request.app.state.dashboard_vendor
    return vendor


def get_settings(request: Request) -> DashboardSettings:
    settings: DashboardSettings = request.app.state.dashboard_settings
    return settings


DashboardDep = Annotated[DashboardService, Depends(get_dashboard)]
VendorDep = Annotated[VendorFiles, Depends(get_vendor)]
SettingsDep = Annotated[DashboardSettings, Depends(get_settings)]


def page_status(exc: MedChainError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ValidationError):
        return 422
    if isinstance(exc, UnavailableError):
        return 503
    return 500


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def router(templates: Jinja2Templates) -> APIRouter:
    def render(
        request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        vendor = get_vendor(request)
        return templates.TemplateResponse(
            request,
            name,
            {"vendor_url": vendor.url, "path": request.url.path, **context},
            status_code=status_code,
        )

    class PageRoute(APIRoute):
        """Domain errors on a page render as an HTML page with the matching status."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def page_handler(request: Request) -> Response:
                try:
                    return await handler(request)
                except MedChainError as exc:
                    status = page_status(exc)
                    template = "_error.html" if is_htmx(request) else "error.html"
                    return render(
                        request, template, {"error": exc.message, "status": status}, status
                    )

            return page_handler

    routes = APIRouter(route_class=PageRoute, include_in_schema=False)

    @routes.get("/", response_class=HTMLResponse)
    def studies(request: Request, dashboard: DashboardDep) -> HTMLResponse:
        return render(request, "studies.html", {"studies": dashboard.studies()})

    @routes.get("/dashboard/studies/{study_id}", response_class=HTMLResponse)
    def study(study_id: str, request: Request, dashboard: DashboardDep) -> HTMLResponse:
        return render(request, "study.html", {"page": dashboard.study(study_id)})

    @routes.get("/dashboard/studies/{study_id}/live", response_class=HTMLResponse)
    def study_live(study_id: str, request: Request, dashboard: DashboardDep) -> HTMLResponse:
        """The part of the study page that changes while it runs (swapped in by htmx)."""
        return render(request, "_study_live.html", {"page": dashboard.study(study_id)})

    @routes.get("/studies/{study_id}/events")
    async def study_events(
        study_id: str, request: Request, dashboard: DashboardDep, settings: SettingsDep
    ) -> StreamingResponse:
        """Server-sent events: `round` when a round is committed or the status changes, then
        `end` once the study completed or failed."""
        first = await run_in_threadpool(dashboard.progress, study_id)  # 404 before streaming

        async def events() -> AsyncIterator[str]:
            progress = first
            yield sse("hello", {"status": progress.status, "rounds": progress.rounds})
            idle = 0.0
            while not progress.finished:
                if await request.is_disconnected():
                    return
                await asyncio.sleep(settings.poll_interval)
                idle += settings.poll_interval
                current = await run_in_threadpool(dashboard.progress, study_id)
                if current.token != progress.token:
                    progress, idle = current, 0.0
                    yield sse("round", {"status": current.status, "rounds": current.rounds})
                elif idle >= KEEPALIVE_S:
                    idle = 0.0
                    yield ": keep-alive\n\n"
            yield sse("end", {"status": progress.status, "rounds": progress.rounds})

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @routes.get("/dashboard/models/{model_hash}", response_class=HTMLResponse)
    def model(model_hash: str, request: Request, dashboard: DashboardDep) -> HTMLResponse:
        return render(request, "model.html", {"page": dashboard.model(model_hash)})

    @routes.post("/dashboard/models/{model_hash}/verify", response_class=HTMLResponse)
    def verify(model_hash: str, request: Request, dashboard: DashboardDep) -> HTMLResponse:
        """Run the audit; the page (or, for htmx, the result) says whether the model verified."""
        audit = dashboard.verify(model_hash)
        log.info("dashboard.verify", model=model_hash, verified=audit.ok)
        if is_htmx(request):
            return render(request, "_audit.html", {"audit": audit})
        page = dashboard.model(model_hash)
        return render(request, "model.html", {"page": page, "audit": audit})

    @routes.get("/dashboard/consent", response_class=HTMLResponse)
    def consent_index(request: Request, dashboard: DashboardDep) -> HTMLResponse:
        return render(request, "consent_index.html", {"summaries": dashboard.consent_summaries()})

    @routes.get("/dashboard/consent/{org}", response_class=HTMLResponse)
    def consent(org: str, request: Request, dashboard: DashboardDep) -> HTMLResponse:
        return render(request, "consent.html", {"page": dashboard.consent(org)})

    @routes.get("/dashboard/network", response_class=HTMLResponse)
    def network(request: Request, dashboard: DashboardDep) -> HTMLResponse:
        return render(request, "network.html", {"page": dashboard.network_page()})

    @routes.get("/static/vendor/{name}")
    def vendor_file(name: str, vendor: VendorDep) -> FileResponse:
        """A pinned, hash-verified htmx or Chart.js file (fetched from npm on first use)."""
        return FileResponse(
            vendor.path(name),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    return routes


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, sort_keys=True)}\n\n"
