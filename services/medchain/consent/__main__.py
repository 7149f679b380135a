"""`python -m medchain.consent`: serve the consent REST API and its gRPC API from settings."""

from __future__ import annotations

from medchain.consent.app import serve
from medchain.consent.settings import get_consent_settings

if __name__ == "__main__":
    serve(get_consent_settings())
