"""Chaincode as a service: build the server, package per hospital, run the lifecycle, supervise."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from medchain.network import processes
from medchain.network.config import Layout
from medchain.network.configs import connection_json
from medchain.network.errors import CommandFailedError, ToolchainError
from medchain.network.fabric_cli import FabricCLI
from medchain.network.state import ChaincodeDeployment

CHAINCODE_SOURCE = Path(__file__).resolve().parents[3] / "chaincode"
SERVER_PACKAGE = "./cmd/medchain"


def source_hash(source: Path = CHAINCODE_SOURCE) -> str:
    """SHA-256 over the chaincode's Go sources and module files (not tests), in path order."""
    digest = hashlib.sha256()
    files = sorted(
        p
        for p in source.rglob("*")
        if p.is_file()
        and (p.suffix == ".go" or p.name in {"go.mod", "go.sum"})
        and not p.name.endswith("_test.go")
        and "bin" not in p.relative_to(source).parts
    )
    for path in files:
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_server(layout: Layout, digest: str) -> Path:
    """Compile the chaincode server for this source hash (cached by hash)."""
    binary = layout.chaincode_dir / "bin" / f"medchain-chaincode-{digest[:12]}"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if not go:
        raise ToolchainError("Go is needed to build the chaincode server and is not on PATH")
    binary.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [go, "build", "-trimpath", "-o", str(binary), SERVER_PACKAGE],
        cwd=CHAINCODE_SOURCE,
        capture_output=True,
        text=True,
        env={**os.environ, "CGO_ENABLED": "0"},
        check=False,
    )
    if proc.returncode != 0:
        raise ToolchainError(f"building the chaincode failed:\n{proc.stdout}{proc.stderr}")
    return binary


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    # Fixed mtime and owner so the same content always gives the same package id.
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=9) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def package(label: str, server_address: str) -> bytes:
    """A CCaaS package: metadata.json plus code.tar.gz holding connection.json."""
    connection = json.dumps(connection_json(server_address), sort_keys=True).encode()
    code = _tar_gz({"connection.json": connection})
    metadata = json.dumps({"type": "ccaas", "label": label}, sort_keys=True).encode()
    return _tar_gz({"metadata.json": metadata, "code.tar.gz": code})


def package_id(label: str, package_bytes: bytes) -> str:
    """The id the peer computes: label:sha256(package)."""
    return f"{label}:{hashlib.sha256(package_bytes).hexdigest()}"


class Lifecycle:
    """The chaincode lifecycle (install, approve per org, commit) through the stock peer CLI."""

    def __init__(self, cli: FabricCLI) -> None:
        self.cli = cli
        self.layout = cli.layout

    def committed(self) -> tuple[int, str] | None:
        """The committed (sequence, version) of the chaincode, or None."""
        org = self.layout.orgs[0]
        try:
            out = self.cli.peer(
                org,
                [
                    "lifecycle",
                    "chaincode",
                    "querycommitted",
                    "-C",
                    self.layout.channel,
                    "-n",
                    self.layout.chaincode_name,
                ],
                retries=5,
            )
        except CommandFailedError as exc:
            if "namespace" in exc.output and "not defined" in exc.output:
                return None
            raise
        match = re.search(r"Version: ([^,]+), Sequence: (\d+)", out)
        return (int(match.group(2)), match.group(1)) if match else None

    def deploy(self, version: str, sequence: int) -> dict[str, str]:
        """Install a per-hospital package, approve it for each org, commit; return package ids."""
        label = f"{self.layout.chaincode_name}_{version}"
        ids: dict[str, str] = {}
        pkg_dir = self.layout.chaincode_dir / "packages"
        pkg_dir.mkdir(parents=True, exist_ok=True)
        for org in self.layout.orgs:
            peer = self.layout.peer(org)
            data = package(label, f"127.0.0.1:{peer.chaincode_server_port}")
            path = pkg_dir / f"{label}-{org}.tar.gz"
            path.write_bytes(data)
            ids[org] = package_id(label, data)
            installed = self.cli.peer(org, ["lifecycle", "chaincode", "queryinstalled"])
            if ids[org] not in installed:
                self.cli.peer(org, ["lifecycle", "chaincode", "install", str(path)], retries=3)
        common = [
            "--channelID",
            self.layout.channel,
            "--name",
            self.layout.chaincode_name,
            "--version",
            version,
            "--sequence",
            str(sequence),
        ]
        for org in self.layout.orgs:
            self.cli.peer(
                org,
                [
                    "lifecycle",
                    "chaincode",
                    "approveformyorg",
                    *self.cli.orderer_args(),
                    *common,
                    "--package-id",
                    ids[org],
                    "--waitForEventTimeout",
                    "60s",
                ],
                retries=8,
            )
        peers: list[str] = []
        for org in self.layout.orgs:
            peers += [
                "--peerAddresses",
                self.layout.peer(org).address,
                "--tlsRootCertFiles",
                str(self.layout.tls_ca(org)),
            ]
        self.cli.peer(
            self.layout.orgs[0],
            ["lifecycle", "chaincode", "commit", *self.cli.orderer_args(), *common, *peers],
            retries=8,
        )
        return ids


def server_spec(layout: Layout, org: str, binary: Path, pkg_id: str) -> processes.ProcessSpec:
    """How to run one hospital's chaincode server."""
    peer = layout.peer(org)
    name = f"chaincode.{org}"
    return processes.ProcessSpec(
        name=name,
        command=[str(binary)],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "CHAINCODE_ID": pkg_id,
            "CHAINCODE_SERVER_ADDRESS": f"127.0.0.1:{peer.chaincode_server_port}",
        },
        cwd=layout.chaincode_dir,
        pid_file=layout.pid_file(name),
        log_file=layout.log_file(name),
    )


def next_deployment(
    current: ChaincodeDeployment | None, committed: tuple[int, str] | None, digest: str
) -> tuple[str, int] | None:
    """The (version, sequence) to deploy, or None when the committed definition is current."""
    if current and committed and current.source_hash == digest and committed[0] == current.sequence:
        return None
    sequence = (committed[0] if committed else 0) + 1
    return f"1.{sequence - 1}", sequence
