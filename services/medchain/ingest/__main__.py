"""`python -m medchain.ingest`: serve the ingest REST API and its gRPC API from settings."""

from __future__ import annotations

from medchain.ingest.app import serve
from medchain.ingest.settings import get_ingest_settings

if __name__ == "__main__":
    serve(get_ingest_settings())
