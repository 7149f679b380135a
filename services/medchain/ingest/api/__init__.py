"""HTTP routes of the ingest service; the URL prefix names the module (`/fhir` is `fhir.py`)."""

from __future__ import annotations

from fastapi import APIRouter

from medchain.ingest.api import fhir, imports, stats


def router() -> APIRouter:
    """Every ingest route, ready to include in the app."""
    root = APIRouter()
    root.include_router(fhir.router)
    root.include_router(imports.router)
    root.include_router(stats.router)
    return root
