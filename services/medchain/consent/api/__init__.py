"""HTTP routes of the consent service; the URL prefix names the module (`/fhir` is `fhir.py`)."""

from __future__ import annotations

from fastapi import APIRouter

from medchain.consent.api import consents, fhir, submissions


def router() -> APIRouter:
    """Every consent route, ready to include in the app."""
    root = APIRouter()
    root.include_router(fhir.router)
    root.include_router(consents.router)
    root.include_router(submissions.router)
    return root
