"""Virtualenvs for the baseline frameworks (Flower, NVIDIA FLARE), created once and cached.

Their pins clash with MedChain's (protobuf, grpcio), so each lives in its own venv under
`${XDG_CACHE_HOME:-~/.cache}/medchain/bench-venvs/<name>-<hash of its pins>`, where CI and later
runs find it again. A venv is complete only once its `.complete` marker exists; a failed
installation leaves no marker and its error is reported word for word.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: Exact versions of every baseline and of the numeric stack it trains with.
BASELINES: dict[str, tuple[str, ...]] = {
    "flower": (
        "flwr[simulation]==1.42.0",
        "ray==2.55.1",
        "numpy==2.4.6",
        "scikit-learn==1.9.1",
    ),
    "nvflare": (
        "nvflare==2.9.0",
        "numpy==2.4.6",
        "scikit-learn==1.9.1",
    ),
}
INSTALL_TIMEOUT_S = 1800


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "medchain" / "bench-venvs"


def venv_dir(name: str) -> Path:
    pins = "\n".join((sys.version.split()[0], *BASELINES[name]))
    return cache_root() / f"{name}-{hashlib.sha256(pins.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class BaselineVenv:
    """A baseline's interpreter, or why there is none."""

    name: str
    python: Path | None
    error: str
    created_now: bool
    install_seconds: float
    versions: dict[str, str]

    @property
    def ok(self) -> bool:
        return self.python is not None


def _versions(python: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    wanted = {"flwr", "ray", "nvflare", "numpy", "scikit-learn", "grpcio", "protobuf"}
    found = dict(line.split("==", 1) for line in out.splitlines() if "==" in line)
    return {k: v for k, v in sorted(found.items()) if k.lower() in wanted}


def ensure(name: str, *, install: bool = True) -> BaselineVenv:
    """The cached venv of `name`, installing it first when missing and `install` is set."""
    root = venv_dir(name)
    python = root / "bin" / "python"
    if (root / ".complete").exists() and python.exists():
        return BaselineVenv(name, python, "", False, 0.0, _versions(python))
    if not install:
        return BaselineVenv(
            name,
            None,
            f"not installed (no cached venv at {root}); quick mode skips it",
            False,
            0,
            {},
        )
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    steps = [
        [sys.executable, "-m", "venv", str(root)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "pip"],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *BASELINES[name],
        ],
    ]
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return BaselineVenv(
                name, None, f"`{' '.join(step)}` timed out", True, time.perf_counter() - started, {}
            )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
            return BaselineVenv(
                name,
                None,
                f"`{' '.join(step)}` exited {done.returncode}: " + " | ".join(tail),
                True,
                time.perf_counter() - started,
                {},
            )
    (root / ".complete").write_text("\n".join(BASELINES[name]) + "\n")
    return BaselineVenv(name, python, "", True, time.perf_counter() - started, _versions(python))


def isolated_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a baseline process: no telemetry, no usage reporting, no MedChain vars."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MEDCHAIN_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env.update(
        {
            "FLWR_TELEMETRY_ENABLED": "0",
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env
