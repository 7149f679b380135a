"""The dashboard's vendored scripts: htmx and Chart.js from the npm registry, pinned and verified.

Nothing is committed and nothing is built: `npm pack <package>@<version>` downloads the release
tarball into the user cache ($XDG_CACHE_HOME/medchain/npm), the one minified file the dashboard
needs is extracted from it, and it is used only if its SHA-256 equals the value pinned here. The
verified files live in the assets directory the app serves under `/static/vendor/`.

    python -m medchain.dashboard.assets            # fetch (once) and verify, print the paths
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from medchain.common.errors import NotFoundError
from medchain.dashboard.errors import AssetsUnavailableError


@dataclass(frozen=True)
class VendorAsset:
    """One file of one npm release, known by the hash of its bytes."""

    package: str
    version: str
    member: str  # path inside the npm tarball
    name: str  # file name served under /static/vendor/
    sha256: str

    @property
    def tarball(self) -> str:
        """The file name `npm pack` writes."""
        return f"{self.package}-{self.version}.tgz"


HTMX = VendorAsset(
    "htmx.org",
    "2.0.11",
    "package/dist/htmx.min.js",
    "htmx.min.js",
    "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
)
CHART_JS = VendorAsset(
    "chart.js",
    "4.5.1",
    "package/dist/chart.umd.min.js",
    "chart.umd.min.js",
    "48444a82d4edcb5bec0f1965faacdde18d9c17db3063d042abada2f705c9f54a",
)
VENDOR_ASSETS: tuple[VendorAsset, ...] = (HTMX, CHART_JS)
_lock = threading.Lock()


def npm_cache_dir() -> Path:
    """Where release tarballs are kept: $XDG_CACHE_HOME/medchain/npm (kept across clean runs)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "medchain" / "npm"


def default_assets_dir() -> Path:
    """Where the verified files are served from: next to the tarballs, one folder per pin set."""
    return npm_cache_dir() / "dashboard-assets"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_verified(asset: VendorAsset, directory: Path) -> bool:
    target = directory / asset.name
    return target.is_file() and sha256_of(target) == asset.sha256


def _npm_pack(asset: VendorAsset, cache: Path, npm: str) -> Path:
    tarball = cache / asset.tarball
    if tarball.is_file():
        return tarball
    cache.mkdir(parents=True, exist_ok=True)
    npm_path = shutil.which(npm)
    if npm_path is None:
        raise AssetsUnavailableError(
            f"npm is not installed; cannot fetch {asset.package}@{asset.version}"
        )
    try:
        subprocess.run(
            [
                npm_path,
                "pack",
                f"{asset.package}@{asset.version}",
                "--pack-destination",
                str(cache),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise AssetsUnavailableError(
            f"npm pack {asset.package}@{asset.version} failed: {detail.strip()[-500:]}"
        ) from exc
    if not tarball.is_file():
        raise AssetsUnavailableError(f"npm pack did not write {tarball}")
    return tarball


def _extract(asset: VendorAsset, tarball: Path, directory: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            member = archive.getmember(asset.member)
        except KeyError:
            raise AssetsUnavailableError(f"{tarball.name} has no {asset.member}") from None
        source = archive.extractfile(member)
        if source is None:
            raise AssetsUnavailableError(f"{asset.member} in {tarball.name} is not a file")
        data = source.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != asset.sha256:
        # A tarball that does not match the pin is never served, and not kept either.
        tarball.unlink(missing_ok=True)
        raise AssetsUnavailableError(
            f"{asset.package}@{asset.version} {asset.member} hashes to {actual}, "
            f"pinned {asset.sha256}"
        )
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".partial")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, directory / asset.name)


def ensure_assets(
    directory: Path | None = None,
    *,
    cache: Path | None = None,
    npm: str = "npm",
    assets: tuple[VendorAsset, ...] = VENDOR_ASSETS,
) -> dict[str, Path]:
    """Every pinned file present and verified in `directory` (fetched once); name -> path.

    Raises `AssetsUnavailableError` when a file cannot be fetched or does not match its pin.
    """
    directory = directory or default_assets_dir()
    cache = cache or npm_cache_dir()
    with _lock:
        for asset in assets:
            if not is_verified(asset, directory):
                _extract(asset, _npm_pack(asset, cache, npm), directory)
    return {asset.name: directory / asset.name for asset in assets}


class VendorFiles:
    """The files served under /static/vendor/: verified on first use, fetched if allowed."""

    def __init__(self, directory: Path, *, fetch: bool = True) -> None:
        self.directory = directory
        self.fetch = fetch
        self._by_name = {asset.name: asset for asset in VENDOR_ASSETS}
        self._verified: set[str] = set()

    def url(self, name: str) -> str:
        """The URL of a vendor file, versioned so browsers may cache it for good."""
        asset = self._by_name[name]
        return f"/static/vendor/{asset.name}?v={asset.version}"

    def path(self, name: str) -> Path:
        """The verified file; NotFoundError for unknown names, AssetsUnavailableError when it
        is missing (and may not be fetched) or cannot be fetched."""
        asset = self._by_name.get(name)
        if asset is None:
            raise NotFoundError(f"no vendor file {name!r}")
        if name not in self._verified:
            if not is_verified(asset, self.directory):
                if not self.fetch:
                    raise AssetsUnavailableError(
                        f"{name} is not in {self.directory}; "
                        "run python -m medchain.dashboard.assets"
                    )
                ensure_assets(self.directory, assets=(asset,))
            self._verified.add(name)
        return self.directory / name


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else None
    try:
        paths = ensure_assets(target)
    except AssetsUnavailableError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    for asset in VENDOR_ASSETS:
        print(f"{asset.package}@{asset.version} {asset.sha256} {paths[asset.name]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
