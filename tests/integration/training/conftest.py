"""A federation in-process on the real network: per hospital a real ingest (HTTP in, gRPC out) and
a real trainer (gRPC, mutual TLS), and an aggregator calling the trainers over gRPC. Built by the
same code as the benchmarks (bench/inprocess_federation.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bench.inprocess_federation import Federation, Hospital
from bench.inprocess_federation import federation as inprocess_federation

from medchain.common.datasets import breast_cancer, non_iid_split
from medchain.demo.tables import breast_cancer_coding
from medchain.network.fabric_network import FabricNetwork

__all__ = ["Federation", "Hospital", "breast_cancer_federation", "federation"]


@contextmanager
def breast_cancer_federation(network: FabricNetwork, root: Path) -> Iterator[Federation]:
    """Breast cancer split non-IID over the network's hospitals, ingested as FHIR."""
    data = breast_cancer()
    coding = breast_cancer_coding(data.feature_names)
    parts = non_iid_split(data, len(network.layout.orgs), alpha=0.8, seed=3, min_size=60)
    with inprocess_federation(network, root, data, coding, parts) as fed:
        yield fed


@pytest.fixture(scope="session")
def federation(
    fabric_network: FabricNetwork, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    with breast_cancer_federation(fabric_network, tmp_path_factory.mktemp("federation")) as fed:
        yield fed
