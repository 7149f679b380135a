"""The operational routes: /healthz reflects its probes, /metrics counts requests."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from medchain.common.http import install_operational_routes


def _app(healthy: bool) -> FastAPI:
    app = FastAPI()

    async def database() -> bool:
        return healthy

    async def broken() -> bool:
        raise RuntimeError("probe crashed")

    checks = {"database": database} if healthy else {"database": database, "ledger": broken}
    install_operational_routes(app, service="test", checks=checks)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


def test_healthy_service() -> None:
    client = TestClient(_app(True))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "test", "checks": {"database": True}}


def test_unhealthy_when_a_probe_fails_or_raises() -> None:
    response = TestClient(_app(False)).get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "ledger": False}


def test_metrics_count_requests_by_route_template() -> None:
    client = TestClient(_app(True))
    client.get("/items/1")
    client.get("/items/2")
    body = client.get("/metrics").text
    assert (
        'medchain_http_requests_total{method="GET",route="/items/{item_id}",'
        'service="test",status="200"} 2.0' in body
    )
