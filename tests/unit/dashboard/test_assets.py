"""Vendored scripts: fetched once with `npm pack`, served only when they match their pinned hash."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

from medchain.dashboard.assets import (
    CHART_JS,
    HTMX,
    VendorAsset,
    VendorFiles,
    ensure_assets,
    is_verified,
)
from medchain.dashboard.errors import AssetsUnavailableError

CONTENT = b"var htmx = {};\n"


def fake_npm(tmp_path: Path, content: bytes) -> Path:
    """An `npm` that packs a tarball holding `package/dist/htmx.min.js` and counts its calls."""
    script = tmp_path / "npm"
    script.write_text(
        f"#!{sys.executable}\n"
        "import io, sys, tarfile, pathlib\n"
        "args = sys.argv[1:]\n"
        "assert args[0] == 'pack'\n"
        "name, version = args[1].rsplit('@', 1)\n"
        "dest = pathlib.Path(args[args.index('--pack-destination') + 1])\n"
        f"log = pathlib.Path({str(tmp_path / 'calls')!r})\n"
        "log.write_text(log.read_text() + args[1] + '\\n' if log.exists() else args[1] + '\\n')\n"
        f"data = {content!r}\n"
        "with tarfile.open(dest / f'{name}-{version}.tgz', 'w:gz') as tar:\n"
        "    info = tarfile.TarInfo('package/dist/htmx.min.js'); info.size = len(data)\n"
        "    tar.addfile(info, io.BytesIO(data))\n"
    )
    script.chmod(0o755)
    return script


def asset(content: bytes = CONTENT) -> VendorAsset:
    return VendorAsset(
        "htmx.org",
        "9.9.9",
        "package/dist/htmx.min.js",
        "htmx.min.js",
        hashlib.sha256(content).hexdigest(),
    )


def test_pins_are_exact_versions_and_sha256_digests() -> None:
    for pinned in (HTMX, CHART_JS):
        assert all(part.isdigit() for part in pinned.version.split("."))
        assert len(pinned.sha256) == 64
        assert int(pinned.sha256, 16) >= 0


def test_fetch_once_then_serve_from_the_cache(tmp_path: Path) -> None:
    npm = fake_npm(tmp_path, CONTENT)
    target, cache = tmp_path / "assets", tmp_path / "cache"
    paths = ensure_assets(target, cache=cache, npm=str(npm), assets=(asset(),))
    assert paths["htmx.min.js"].read_bytes() == CONTENT
    assert (cache / "htmx.org-9.9.9.tgz").is_file()
    (target / "htmx.min.js").unlink()
    ensure_assets(target, cache=cache, npm=str(npm), assets=(asset(),))  # from the tarball
    ensure_assets(target, cache=cache, npm=str(npm), assets=(asset(),))  # already there
    assert (tmp_path / "calls").read_text().splitlines() == ["htmx.org@9.9.9"]


def test_a_file_that_does_not_match_its_pin_is_refused_and_its_tarball_dropped(
    tmp_path: Path,
) -> None:
    npm = fake_npm(tmp_path, b"alert('not htmx')")
    with pytest.raises(AssetsUnavailableError, match="pinned"):
        ensure_assets(tmp_path / "a", cache=tmp_path / "c", npm=str(npm), assets=(asset(),))
    assert not (tmp_path / "a" / "htmx.min.js").exists()
    assert not (tmp_path / "c" / "htmx.org-9.9.9.tgz").exists()


def test_a_served_file_changed_on_disk_is_fetched_again(tmp_path: Path) -> None:
    npm = fake_npm(tmp_path, CONTENT)
    target = tmp_path / "assets"
    ensure_assets(target, cache=tmp_path / "c", npm=str(npm), assets=(asset(),))
    (target / "htmx.min.js").write_bytes(b"tampered")
    assert not is_verified(asset(), target)
    ensure_assets(target, cache=tmp_path / "c", npm=str(npm), assets=(asset(),))
    assert is_verified(asset(), target)


def test_without_npm_the_error_says_so(tmp_path: Path) -> None:
    with pytest.raises(AssetsUnavailableError, match="npm is not installed"):
        ensure_assets(
            tmp_path / "a", cache=tmp_path / "c", npm="no-such-npm-here", assets=(asset(),)
        )


def test_vendor_files_verify_before_serving(tmp_path: Path) -> None:
    files = VendorFiles(tmp_path, fetch=False)
    assert files.url("htmx.min.js") == f"/static/vendor/htmx.min.js?v={HTMX.version}"
    (tmp_path / "htmx.min.js").write_bytes(b"not the pinned file")
    with pytest.raises(AssetsUnavailableError):
        files.path("htmx.min.js")
    assert os.path.exists(tmp_path / "htmx.min.js")


def test_tarball_member_missing_is_reported(tmp_path: Path) -> None:
    cache = tmp_path / "c"
    cache.mkdir()
    with tarfile.open(cache / "htmx.org-9.9.9.tgz", "w:gz") as tar:
        info = tarfile.TarInfo("package/README.md")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(AssetsUnavailableError, match=r"has no package/dist/htmx\.min\.js"):
        ensure_assets(tmp_path / "a", cache=cache, npm="npm", assets=(asset(),))
