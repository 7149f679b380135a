"""Settings of the dashboard (`MEDCHAIN_DASHBOARD_*`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """Where the vendored scripts live and how often live pages look for news."""

    model_config = SettingsConfigDict(
        env_prefix="MEDCHAIN_DASHBOARD_", env_file=None, extra="ignore", frozen=True
    )

    #: The verified htmx and Chart.js files; unset: the user cache (see `assets.py`).
    assets_dir: Path | None = None
    #: Fetch missing vendor files with npm on first request (off: serve only what is there).
    fetch_assets: bool = True
    #: Seconds between the server's looks at a study for the live event stream.
    poll_interval: float = Field(default=1.0, gt=0)
    #: Seconds a network status (one peer CLI call per peer) is reused.
    network_status_ttl: float = Field(default=5.0, ge=0)


@lru_cache(maxsize=1)
def get_dashboard_settings() -> DashboardSettings:
    """Process-wide dashboard settings; tests call `get_dashboard_settings.cache_clear()`."""
    return DashboardSettings()
