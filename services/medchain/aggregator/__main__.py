"""`python -m medchain.aggregator`: serve the study coordinator's REST API."""

from __future__ import annotations

from medchain.aggregator.app import serve
from medchain.aggregator.settings import get_aggregator_settings

if __name__ == "__main__":
    serve(get_aggregator_settings())
