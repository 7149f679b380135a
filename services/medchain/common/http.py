"""Operational routes every FastAPI service shares: `/healthz` and Prometheus `/metrics`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as render_metrics

HealthCheck = Callable[[], Awaitable[bool]]


def install_operational_routes(
    app: FastAPI,
    *,
    service: str,
    checks: Mapping[str, HealthCheck] | None = None,
    registry: CollectorRegistry | None = None,
) -> CollectorRegistry:
    """Add `/healthz`, `/metrics` and request metrics to an app; return the registry used.

    Each service gets its own registry so several apps in one process (tests) never clash.
    """
    registry = registry if registry is not None else CollectorRegistry()
    requests = Counter(
        "medchain_http_requests_total",
        "HTTP requests by route, method and status.",
        ["service", "route", "method", "status"],
        registry=registry,
    )
    latency = Histogram(
        "medchain_http_request_seconds",
        "HTTP request latency by route.",
        ["service", "route", "method"],
        registry=registry,
    )
    probes = dict(checks or {})

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        latency.labels(service, path, request.method).observe(time.perf_counter() - started)
        requests.labels(service, path, request.method, str(response.status_code)).inc()
        return response

    @app.get("/healthz", tags=["operations"], summary="Liveness and dependency health")
    async def healthz() -> JSONResponse:
        results: dict[str, bool] = {}
        for name, probe in probes.items():
            try:
                results[name] = await probe()
            except Exception:  # noqa: BLE001 - a failing probe means unhealthy, never a 500
                results[name] = False
        healthy = all(results.values())
        body = {"status": "ok" if healthy else "unhealthy", "service": service, "checks": results}
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(render_metrics(registry), media_type=CONTENT_TYPE_LATEST)

    return registry


async def read_limited_body(
    request: Request, limit: int, too_large: Callable[[str], Exception]
) -> bytes:
    """The request body, refused with `too_large(message)` as soon as it outgrows `limit` (never
    fully buffered); each service passes its own 413 error."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(f"body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
