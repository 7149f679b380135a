"""Randomly mutated carebundle bundles: the service answers with a domain error or stores them,
never crashes, and a rejected transaction stores nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from carebundle import generate_bundle, to_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medchain.ingest.errors import IngestError
from medchain.ingest.service import IngestService

BASE: dict[str, Any] = json.loads(to_json(generate_bundle(profile="type2_diabetes", seed=3)))
ODD_VALUES = [
    None,
    1,
    -1.5,
    "",
    "x",
    True,
    [],
    {},
    [1],
    {"a": 1},
    "Patient/nobody",
    "#contained",
    "urn:uuid:00000000-0000-0000-0000-000000000000",
    "2026-13-01",
    "2020",
    "http://elsewhere/Patient/1",
]


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


PATHS = list(_paths(BASE))
mutation = st.tuples(st.sampled_from(PATHS), st.sampled_from([*ODD_VALUES, "<delete>"]))


def _mutated(kind: str, mutations: list[tuple[tuple[str | int, ...], Any]]) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["type"] = kind
    for path, value in mutations:
        node: Any = document
        try:
            for key in path[:-1]:
                node = node[key]
            if value == "<delete>" and isinstance(node, dict):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this path
    return document


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["transaction", "batch", "collection"]),
    mutations=st.lists(mutation, min_size=1, max_size=3),
)
def test_mutations_never_crash_and_rejections_store_nothing(
    sqlite_service: IngestService, kind: str, mutations: list[tuple[tuple[str | int, ...], Any]]
) -> None:
    before = sqlite_service.stats()["resources"]

    rejection: IngestError | None = None
    try:
        sqlite_service.ingest_bundle(json.dumps(_mutated(kind, mutations)).encode())
    except IngestError as exc:
        rejection = exc

    if rejection is not None:
        assert rejection.issues
        assert sqlite_service.stats()["resources"] == before
