"""Fabric binaries: found on PATH or FABRIC_BIN, or built with Go from the module proxy and cached.

Fabric's module path has no `/v3` suffix, so `go install ...@v3.1.5` is refused; the build asks for
a release commit instead, through a tiny wrapper module. The proxy reachable here may not serve
every commit, so the candidates are tried in order and the first that builds is kept
(docs/adr/0001-fabric-version.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medchain.network.errors import ToolchainError

TOOLS = ("peer", "orderer", "configtxgen", "osnadmin", "cryptogen")
MODULE = "github.com/hyperledger/fabric"


@dataclass(frozen=True)
class FabricRelease:
    """A Fabric release buildable from the module proxy by commit pseudo-version."""

    version: str
    module_version: str


#: In order of preference; the first the proxy serves and that builds is used.
RELEASES = (
    FabricRelease("3.1.5", "v1.4.0-rc1.0.20260618074816-86c1172bec37"),
    FabricRelease("2.5.16", "f871cf92a026aba7b12e6f06d71ded3e6e659d71"),
    FabricRelease("2.5.0", "v1.4.0-rc1.0.20230401164317-bd8e24856939"),
)
SUPPORTED_VERSIONS = frozenset(r.version for r in RELEASES)


@dataclass(frozen=True)
class FabricInstall:
    """Where the five binaries and the matching sample configuration live."""

    bin_dir: Path
    version: str
    sampleconfig: Path

    def tool(self, name: str) -> Path:
        return self.bin_dir / name


def cache_root() -> Path:
    """The user cache (kept across `network clean` and CI runs): $XDG_CACHE_HOME/medchain/fabric."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "medchain" / "fabric"


def binary_version(path: Path) -> str | None:
    """The version a Fabric binary reports, or None when it cannot run."""
    try:
        out = subprocess.run(
            [str(path), "version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except OSError:
        return None
    match = re.search(r"Version:\s*v?([0-9][^\s]*)", out)
    return match.group(1) if match else None


def _complete(bin_dir: Path) -> str | None:
    if not all((bin_dir / tool).is_file() for tool in TOOLS):
        return None
    version = binary_version(bin_dir / "peer")
    return version if version in SUPPORTED_VERSIONS else None


def _sampleconfig_for(version: str) -> Path | None:
    path = cache_root() / version / "sampleconfig"
    return path if (path / "core.yaml").exists() else None


def find_installed() -> FabricInstall | None:
    """Binaries from FABRIC_BIN, PATH or the cache, whose version is supported."""
    candidates: list[Path] = []
    if os.environ.get("FABRIC_BIN"):
        candidates.append(Path(os.environ["FABRIC_BIN"]))
    on_path = shutil.which("peer")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates += [cache_root() / r.version / "bin" for r in RELEASES]
    for bin_dir in candidates:
        version = _complete(bin_dir)
        if version:
            sample = _sampleconfig_for(version) or _sampleconfig_near(bin_dir)
            if sample:
                return FabricInstall(bin_dir=bin_dir, version=version, sampleconfig=sample)
    return None


def _sampleconfig_near(bin_dir: Path) -> Path | None:
    for candidate in (bin_dir.parent / "config", bin_dir.parent / "sampleconfig"):
        if (candidate / "core.yaml").exists() and (candidate / "orderer.yaml").exists():
            return candidate
    return None


Progress = Callable[[str], None]


def ensure_fabric(progress: Progress | None = None) -> FabricInstall:
    """Return usable binaries, building them with Go when none are installed."""
    found = find_installed()
    if found:
        return found
    go = shutil.which("go")
    if not go:
        raise ToolchainError(
            "Go is not installed or not on PATH: Fabric is built from source with `go build`. "
            "Install Go 1.22 or newer (https://go.dev/doc/install), or set FABRIC_BIN to a "
            f"directory holding Fabric {', '.join(sorted(SUPPORTED_VERSIONS))} binaries."
        )
    failures: list[str] = []
    for release in RELEASES:
        try:
            return _build(go, release, progress or (lambda _line: None))
        except ToolchainError as exc:
            failures.append(f"  Fabric {release.version} ({release.module_version}): {exc}")
    raise ToolchainError(
        "could not build Fabric from the Go module proxy; every candidate failed:\n"
        + "\n".join(failures)
        + "\nCheck GOPROXY / network access, or set FABRIC_BIN to prebuilt binaries."
    )


_WRAPPER_GO_MOD = """module medchain.local/fabricbuild

go 1.20

require {module} {version}
"""
_WRAPPER_IMPORTS = """//go:build tools

package fabricbuild

import (
{imports}
)
"""


def _run_streaming(cmd: list[str], cwd: Path, env: dict[str, str], progress: Progress) -> str:
    """Run a command, feeding each output line to `progress`; return the whole output."""
    lines: list[str] = []
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        progress(line.rstrip())
    if proc.wait() != 0:
        raise ToolchainError(f"`{' '.join(cmd[:3])}` failed:\n{''.join(lines[-15:])}")
    return "".join(lines)


def _build(go: str, release: FabricRelease, progress: Progress) -> FabricInstall:
    target = cache_root() / release.version
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": os.environ.get("CGO_ENABLED", "0")}
    with tempfile.TemporaryDirectory(prefix="medchain-fabric-build-") as tmp:
        work = Path(tmp)
        (work / "go.mod").write_text(
            _WRAPPER_GO_MOD.format(module=MODULE, version=release.module_version)
        )
        imports = "\n".join(f'\t_ "{MODULE}/cmd/{tool}"' for tool in TOOLS)
        (work / "tools.go").write_text(_WRAPPER_IMPORTS.format(imports=imports))
        progress(f"resolving Fabric {release.version} from the Go module proxy")
        _run_streaming([go, "mod", "tidy"], work, env, progress)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "bin").mkdir(parents=True)
        ldflags = f"-X {MODULE}/common/metadata.Version={release.version}"
        progress(f"compiling {', '.join(TOOLS)} (about 2 minutes on 2 cores)")
        ticker = _Ticker(progress, f"compiling Fabric {release.version}")
        try:
            _run_streaming(
                [
                    go,
                    "build",
                    "-trimpath",
                    "-ldflags",
                    ldflags,
                    "-o",
                    str(staging / "bin") + "/",
                    *(f"{MODULE}/cmd/{tool}" for tool in TOOLS),
                ],
                work,
                env,
                progress,
            )
        finally:
            ticker.stop()
        module_dir = subprocess.run(
            [go, "list", "-m", "-f", "{{.Dir}}", MODULE],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        shutil.copytree(Path(module_dir) / "sampleconfig", staging / "sampleconfig")
        for path in (staging / "sampleconfig").rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    version = binary_version(target / "bin" / "peer")
    if version != release.version:
        raise ToolchainError(f"built peer reports version {version!r}, expected {release.version}")
    return FabricInstall(target / "bin", release.version, target / "sampleconfig")


class _Ticker:
    """Reports elapsed time every few seconds while a silent step (compiling) runs."""

    def __init__(self, progress: Progress, what: str, every: float = 5.0) -> None:
        self._stop = threading.Event()
        started = time.monotonic()

        def tick() -> None:
            while not self._stop.wait(every):
                progress(f"{what}: {time.monotonic() - started:.0f}s elapsed")

        self._thread = threading.Thread(target=tick, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
