"""Headless Chromium for browser tests: Debian's `chromium` package, installed when missing.

Playwright drives it through `executable_path` and never downloads a browser of its own.

    python -m medchain.devtools.browser        # install if missing (as root), print the path
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from medchain.common.errors import UnavailableError

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a quiet, repeatable headless browser that talks to nothing but the page under test
#: (Playwright adds --headless itself and takes the user data directory as a parameter).
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
_APT_TIMEOUT_S = 900
_lock = threading.Lock()
_apt_updated = False


class BrowserUnavailableError(UnavailableError):
    """Chromium is missing and cannot be installed here."""


def _apt(*args: str) -> None:
    apt = shutil.which("apt-get")
    if apt is None:
        raise BrowserUnavailableError(f"{CHROMIUM} is missing and apt-get is not available")
    result = subprocess.run(
        [apt, *args],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        timeout=_APT_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        raise BrowserUnavailableError(
            f"apt-get {' '.join(args)} failed ({result.returncode}): {result.stderr[-800:]}"
        )


def ensure_chromium(path: Path = CHROMIUM) -> Path:
    """Debian's Chromium, installed with apt-get (update once, then install) when missing.

    Raises `BrowserUnavailableError` when it is missing and this process is not root.
    """
    global _apt_updated
    with _lock:
        if path.is_file() and os.access(path, os.X_OK):
            return path
        if os.geteuid() != 0:
            raise BrowserUnavailableError(
                f"{path} is missing and installing Debian's chromium needs root "
                "(run `apt-get install -y chromium` as root)"
            )
        if not _apt_updated:
            _apt("update")
            _apt_updated = True
        _apt("install", "-y", "chromium")
        if not path.is_file():
            raise BrowserUnavailableError(f"apt-get installed chromium but {path} is missing")
        return path


def main() -> int:
    try:
        print(ensure_chromium())
    except BrowserUnavailableError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
