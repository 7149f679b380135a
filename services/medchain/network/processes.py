"""Supervise native processes: pid and log file each, readiness by polling, clean stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from medchain.network.errors import NodeFailedError, PortBusyError


@dataclass(frozen=True)
class ProcessSpec:
    """What to run for one supervised process and where its pid and log go."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    pid_file: Path
    log_file: Path
    health_url: str | None = None
    #: For processes without an HTTP health endpoint: ready once this loopback port accepts.
    ready_port: int | None = None
    #: Headers the health check sends (e.g. a bearer key where every endpoint needs one).
    health_headers: Mapping[str, str] | None = None


def read_pid(pid_file: Path) -> int | None:
    """The pid in a pid file if that process is still alive and is the one we started."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid, pid_file) else None


def _alive(pid: int, pid_file: Path) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Guard against pid reuse: the pid file records the executable we started.
    recorded = pid_file.read_text().split("\n", 1)
    if len(recorded) > 1 and recorded[1].strip():
        try:
            exe = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
        except OSError:
            return False
        # The kernel shows an empty cmdline for a moment right after exec: not a mismatch.
        if exe and exe != recorded[1].strip():
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def start(spec: ProcessSpec) -> int:
    """Start a process detached from this one (its own session), unless it already runs."""
    running = read_pid(spec.pid_file)
    if running:
        return running
    spec.pid_file.parent.mkdir(parents=True, exist_ok=True)
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_file.open("ab") as log:
        log.write(f"\n=== start {time.strftime('%Y-%m-%dT%H:%M:%S')} ===\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(spec.command),
            cwd=spec.cwd,
            env=dict(spec.env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    spec.pid_file.write_text(f"{proc.pid}\n{spec.command[0]}\n")
    return proc.pid


def wait_healthy(spec: ProcessSpec, timeout: float) -> None:
    """Poll the health URL until it answers 200; fail early if the process dies."""
    if spec.health_url is None and spec.ready_port is None:
        return
    target = spec.health_url or f"127.0.0.1:{spec.ready_port}"
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if read_pid(spec.pid_file) is None:
            raise NodeFailedError(
                f"{spec.name} exited during start-up; last lines of {spec.log_file}:\n"
                + tail(spec.log_file)
            )
        if spec.health_url is not None and http_ok(spec.health_url, headers=spec.health_headers):
            return
        if spec.ready_port is not None and port_open(spec.ready_port):
            return
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    raise NodeFailedError(
        f"{spec.name} did not become healthy at {target} within {timeout:.0f}s; "
        f"see {spec.log_file}:\n{tail(spec.log_file)}"
    )


def http_ok(url: str, timeout: float = 1.0, headers: Mapping[str, str] | None = None) -> bool:
    """True when a GET on a loopback URL answers 200."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"health checks only target loopback URLs, got {url}")
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def http_text(url: str, timeout: float = 2.0) -> str | None:
    """The body of a GET on a loopback URL, or None when it does not answer 200."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"only loopback URLs are read, got {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return (
                response.read().decode("utf-8", errors="replace")
                if response.status == 200
                else None
            )
    except (urllib.error.URLError, OSError):
        return None


def port_open(port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout):
            return True
    except OSError:
        return False


def stop(pid_file: Path, grace: float = 10.0) -> bool:
    """Stop a process and its children (SIGTERM, then SIGKILL); True if one was running."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and read_pid(pid_file):
        _reap(pid)
        time.sleep(0.05)
    if read_pid(pid_file):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while read_pid(pid_file):
            _reap(pid)
            time.sleep(0.05)
    pid_file.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file ('' when it does not exist)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_port_free(port: int, timeout: float = 15.0) -> None:
    """Wait until nothing listens on a loopback port (a stopped server can take a moment)."""
    deadline = time.monotonic() + timeout
    while port_open(port, timeout=0.2) and time.monotonic() < deadline:
        time.sleep(0.1)


def check_ports_free(ports: Mapping[int, str]) -> None:
    """Raise PortBusyError naming the first port (and what it was for) that is taken."""
    for port, owner in sorted(ports.items()):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                raise PortBusyError(
                    f"port {port} (needed by {owner}) is already in use on 127.0.0.1; stop what "
                    f"uses it (`ss -ltnp 'sport = :{port}'`) or choose other ports with "
                    "MEDCHAIN_FABRIC_BASE_PORT"
                ) from exc
