"""Run Fabric's own command-line tools (peer, osnadmin, configtxgen, cryptogen) for the network."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from medchain.network.binaries import FabricInstall
from medchain.network.config import ORDERER_ORG, Layout
from medchain.network.errors import CommandFailedError

#: Transient answers while Raft elects a leader or a peer catches up; retried with backoff.
TRANSIENT_MARKERS = (
    "SERVICE_UNAVAILABLE",
    "no Raft leader",
    "connection refused",
    "failed to connect",
    "context deadline exceeded",
    "not yet available",
    "NOT_FOUND -- channel does not exist",
    "code = Unavailable",
    "too_many_pings",
)


class FabricCLI:
    """Typed access to the five Fabric tools against one Layout."""

    def __init__(self, install: FabricInstall, layout: Layout) -> None:
        self.install = install
        self.layout = layout

    def peer_env(self, org: str, *, admin: bool = True) -> dict[str, str]:
        """Environment that makes the stock `peer` CLI act as an org's admin (or User1)."""
        peer = self.layout.peer(org)
        return {
            "FABRIC_CFG_PATH": str(self.layout.node_dir(peer) / "config"),
            "CORE_PEER_LOCALMSPID": self.layout.msp_id(org),
            "CORE_PEER_MSPCONFIGPATH": str(
                self.layout.admin_msp(org) if admin else self.layout.user_msp(org)
            ),
            "CORE_PEER_ADDRESS": peer.address,
            "CORE_PEER_TLS_ENABLED": "true",
            "CORE_PEER_TLS_ROOTCERT_FILE": str(self.layout.tls_ca(org)),
        }

    def orderer_args(self) -> list[str]:
        """Flags that point peer commands at the first orderer with TLS."""
        return [
            "-o",
            self.layout.orderers()[0].address,
            "--tls",
            "--cafile",
            str(self.layout.tls_ca(ORDERER_ORG)),
        ]

    def run(
        self,
        tool: str,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        retries: int = 0,
        timeout: float = 120.0,
    ) -> str:
        """Run a tool, retrying transient failures; return its combined output."""
        command = [str(self.install.tool(tool)), *args]
        full_env = {**os.environ, **(env or {})}
        full_env.setdefault("FABRIC_CFG_PATH", str(self.install.sampleconfig))
        delay = 0.25
        for attempt in range(retries + 1):
            proc = subprocess.run(
                command,
                env=full_env,
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            output = proc.stdout + proc.stderr
            if proc.returncode == 0:
                return output
            transient = any(marker in output for marker in TRANSIENT_MARKERS)
            if not transient or attempt == retries:
                raise CommandFailedError(command, output)
            time.sleep(delay)
            delay = min(delay * 2, 3.0)
        raise AssertionError("unreachable")

    def peer(self, org: str, args: list[str], *, retries: int = 0) -> str:
        return self.run("peer", args, env=self.peer_env(org), retries=retries)

    def osnadmin(self, node_index: int, args: list[str], *, retries: int = 0) -> str:
        node = self.layout.orderers()[node_index]
        tls = self.layout.admin_tls(ORDERER_ORG)
        return self.run(
            "osnadmin",
            [
                *args,
                "-o",
                f"127.0.0.1:{node.second_port}",
                "--ca-file",
                str(self.layout.tls_ca(ORDERER_ORG)),
                "--client-cert",
                str(tls / "client.crt"),
                "--client-key",
                str(tls / "client.key"),
            ],
            retries=retries,
        )
