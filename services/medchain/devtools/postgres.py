"""A throwaway PostgreSQL cluster for tests: installed from Debian if missing, on a loopback port.

`make test` starts one per run in a temp dir, passes its URL to pytest as
`MEDCHAIN_TEST_POSTGRES_URL`, and removes it afterwards. As root, the server runs as the
`postgres` system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEBIAN_PACKAGE = "postgresql"


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL could not be installed or started; the message says why."""


def _find_bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def ensure_installed() -> Path:
    """Return PostgreSQL's bin dir, installing the Debian package first when it is missing."""
    bindir = _find_bindir()
    if bindir:
        return bindir
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise PostgresUnavailableError(
            "PostgreSQL is not installed; install the Debian package 'postgresql' (needs root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", DEBIAN_PACKAGE],
        check=True,
        env=env,
    )
    bindir = _find_bindir()
    if not bindir:
        raise PostgresUnavailableError("apt-get installed postgresql but initdb was not found")
    return bindir


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster."""

    datadir: Path
    port: int
    user: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"


def _as_user(user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--"] if user else []


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Start a cluster in a temp dir on a free loopback port; stop and delete it on exit."""
    bindir = ensure_installed()
    run_as = "postgres" if os.geteuid() == 0 else None
    db_user = run_as or pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="medchain-pg-"))
    datadir = root / "data"
    if run_as:
        os.chmod(root, 0o755)  # noqa: S103 - the server user must reach its data dir
        shutil.chown(root, user=run_as)
    port = free_port()
    try:
        subprocess.run(
            [
                *_as_user(run_as),
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-A",
                "trust",
                "-U",
                db_user,
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200"
        subprocess.run(
            [
                *_as_user(run_as),
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-o",
                options,
                "-l",
                str(root / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        _wait_ready(port)
        yield Cluster(datadir=datadir, port=port, user=db_user)
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        raise PostgresUnavailableError(
            f"{exc.cmd[len(_as_user(run_as))]} failed: {exc.stderr!r} {log}"
        ) from exc
    finally:
        if (datadir / "postmaster.pid").exists():
            subprocess.run(
                [*_as_user(run_as), str(bindir / "pg_ctl"), "-D", str(datadir), "-mfast", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise PostgresUnavailableError(f"PostgreSQL did not accept connections on port {port}")
