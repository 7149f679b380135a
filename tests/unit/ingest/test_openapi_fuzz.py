"""A schemathesis fuzz run of the ingest OpenAPI: no generated request may get a 5xx.

Cases are drawn per operation with hypothesis, valid (positive) and invalid (negative) ones,
rather than through schemathesis' pytest plugin, whose lazy fixture loader fails under pytest 9.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medchain.common.auth import ApiKeyFile
from medchain.ingest.app import build_http_app
from tests.unit.ingest.conftest import make_service, make_settings

EXAMPLES_PER_OPERATION = 40


def _exercise(
    label: str, strategy: st.SearchStrategy[Any], auth: dict[str, str], seen: dict[str, set[int]]
) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(case: Any) -> None:
        response = case.call(headers=auth)
        seen.setdefault(label, set()).add(response.status_code)
        assert response.status_code < 500, (label, response.text[:500])

    call()


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    service = make_service(
        make_settings(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}", tmp_path / "home")
    )
    keys = ApiKeyFile(tmp_path / "api-keys.json")
    auth = {"Authorization": f"Bearer {keys.issue('h1', 'fuzzer').token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", build_http_app(service, keys))
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    seen: dict[str, set[int]] = {}

    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):
        _exercise(operation.label, operation.as_strategy(mode), auth, seen)

    assert {"POST /fhir", "POST /fhir/{resource_type}", "POST /import/csv", "GET /stats"} <= set(
        seen
    )
    assert 422 in seen["POST /fhir"]
