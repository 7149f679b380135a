"""The local Fabric network as one object: up, down, clean, status, and single-node control."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from medchain.ledger.connection import ConnectionProfile, connect
from medchain.ledger.errors import LedgerError
from medchain.ledger.transaction import Invocation, TransactionContext, endorse_request
from medchain.network import chaincode, configs, processes
from medchain.network import state as state_store
from medchain.network.binaries import FabricInstall, ensure_fabric
from medchain.network.config import Layout, NetworkSettings, Node
from medchain.network.errors import CommandFailedError, NetworkStateError, NodeFailedError
from medchain.network.fabric_cli import FabricCLI
from medchain.network.state import ChaincodeDeployment, NetworkState

Progress = Callable[[str], None]


@dataclass
class NodeStatus:
    """Health of one process of the network."""

    name: str
    kind: str
    org: str
    address: str
    pid: int | None
    healthy: bool
    height: int | None = None


@dataclass
class NetworkStatus:
    """Everything `network status` reports."""

    nodes: list[NodeStatus] = field(default_factory=list)
    chaincode: dict[str, Any] | None = None

    @property
    def healthy(self) -> bool:
        return bool(self.nodes) and all(n.healthy for n in self.nodes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "nodes": [vars(n) for n in self.nodes],
            "chaincode": self.chaincode,
        }


class FabricNetwork:
    """A Fabric network of N hospitals and 3 Raft orderers, run as native processes."""

    def __init__(
        self,
        settings: NetworkSettings | None = None,
        hospitals: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings or NetworkSettings()
        saved = state_store.load(Layout.from_settings(self.settings).state_file)
        if saved and hospitals is not None and hospitals != saved.hospitals:
            raise NetworkStateError(
                f"the network under {self.settings.home} has {saved.hospitals} hospitals, not "
                f"{hospitals}; run `medchain network clean` first to start a new one"
            )
        count = hospitals if hospitals is not None else (saved.hospitals if saved else None)
        self.layout = Layout.from_settings(self.settings, count)
        if saved and saved.base_port != self.layout.base_port:
            self.layout = Layout.from_settings(
                self.settings.model_copy(update={"fabric_base_port": saved.base_port}), count
            )
        self.progress = progress or (lambda _msg: None)
        self._install: FabricInstall | None = None

    # -- facts ---------------------------------------------------------------------------------

    @property
    def install(self) -> FabricInstall:
        if self._install is None:
            self._install = ensure_fabric(self.progress)
        return self._install

    @property
    def cli(self) -> FabricCLI:
        return FabricCLI(self.install, self.layout)

    def state(self) -> NetworkState | None:
        return state_store.load(self.layout.state_file)

    def connection_profile(self, org: str, user: str = "User1") -> ConnectionProfile:
        """How a MedChain service of `org` reaches its own peer's Gateway as `user`."""
        peer = self.layout.peer(org)
        msp_dir = self.layout.admin_msp(org) if user == "Admin" else self.layout.user_msp(org, user)
        return ConnectionProfile(
            peer_endpoint=peer.address,
            tls_root_cert_path=self.layout.tls_ca(org),
            server_name_override=peer.name,
            msp_id=self.layout.msp_id(org),
            msp_dir=msp_dir,
        )

    def _write_connection_profiles(self) -> None:
        profiles = self.layout.root / "profiles"
        profiles.mkdir(parents=True, exist_ok=True)
        for org in self.layout.orgs:
            for user in ("User1", "User2", "Admin"):
                profile = self.connection_profile(org, user)
                (profiles / f"{org}-{user}.json").write_text(profile.model_dump_json(indent=2))

    # -- up ------------------------------------------------------------------------------------

    def up(self) -> NetworkStatus:
        """Create or restart the network until the chaincode definition is committed and served."""
        started = time.monotonic()
        install = self.install
        current = self.state() or NetworkState(
            hospitals=self.layout.hospitals,
            base_port=self.layout.base_port,
            channel=self.layout.channel,
            fabric_version=install.version,
        )
        self._ensure_crypto()
        self._write_node_configs()
        self._write_connection_profiles()
        self._start_nodes(self.layout.nodes())
        if not current.channel_created:
            self._create_channel()
            current.channel_created = True
            state_store.save(self.layout.state_file, current)
        self._wait_for_raft_leader()
        current.chaincode = self._ensure_chaincode(current.chaincode)
        state_store.save(self.layout.state_file, current)
        self._wait_endorsable()
        self.progress(f"network up in {time.monotonic() - started:.1f}s")
        return self.status()

    def _ensure_crypto(self) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        config = self.layout.root / "crypto-config.yaml"
        wanted = configs.crypto_config(self.layout)
        if (self.layout.organizations / "ordererOrganizations").exists():
            if config.exists() and config.read_text() == wanted:
                return
            # Material from an older layout (e.g. fewer users): add what is missing, keep the rest.
            config.write_text(wanted)
            self.cli.run(
                "cryptogen",
                ["extend", f"--config={config}", f"--input={self.layout.organizations}"],
            )
            return
        self.progress("generating crypto material with cryptogen")
        config.write_text(wanted)
        self.cli.run(
            "cryptogen",
            ["generate", f"--config={config}", f"--output={self.layout.organizations}"],
        )

    def _write_node_configs(self) -> None:
        builders = self.layout.builders_dir / "ccaas"
        if builders.exists():
            shutil.rmtree(builders)
        shutil.copytree(configs.BUILDER_SOURCE, builders)
        sample_core = yaml.safe_load((self.install.sampleconfig / "core.yaml").read_text())
        sample_orderer = yaml.safe_load((self.install.sampleconfig / "orderer.yaml").read_text())
        for node in self.layout.nodes():
            config_dir = self.layout.node_dir(node) / "config"
            config_dir.mkdir(parents=True, exist_ok=True)
            if node.kind == "peer":
                content = configs.peer_core_yaml(self.layout, node, sample_core)
                (config_dir / "core.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
            else:
                content = configs.orderer_yaml(self.layout, node, sample_orderer)
                (config_dir / "orderer.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
        configtx_dir = self.layout.root / "configtx"
        configtx_dir.mkdir(parents=True, exist_ok=True)
        (configtx_dir / "configtx.yaml").write_text(
            configs.configtx(self.layout, self.settings.batch_timeout)
        )

    def node_spec(self, node: Node) -> processes.ProcessSpec:
        """How to run one peer or orderer."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - fallback only
            "FABRIC_CFG_PATH": str(self.layout.node_dir(node) / "config"),
            "FABRIC_LOGGING_SPEC": os.environ.get("MEDCHAIN_FABRIC_LOGGING_SPEC", "INFO"),
        }
        args = ["node", "start"] if node.kind == "peer" else []
        return processes.ProcessSpec(
            name=node.label,
            command=[str(self.install.tool(node.kind)), *args],
            env=env,
            cwd=self.layout.node_dir(node),
            pid_file=self.layout.pid_file(node.label),
            log_file=self.layout.log_file(node.label),
            health_url=f"http://127.0.0.1:{node.operations_port}/healthz",
        )

    def _start_nodes(self, nodes: list[Node]) -> None:
        specs = [self.node_spec(n) for n in nodes]
        to_start = [
            (n, s) for n, s in zip(nodes, specs, strict=True) if not processes.read_pid(s.pid_file)
        ]
        busy = {p: n.label for n, _ in to_start for p in n.ports()}
        processes.check_ports_free(busy)
        for _node, spec in to_start:
            processes.start(spec)
        if to_start:
            self.progress(f"starting {', '.join(s.name for _, s in to_start)}")
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            list(pool.map(lambda s: processes.wait_healthy(s, self.settings.node_timeout), specs))

    def raft_leader(self) -> str | None:
        """The orderer that is Raft leader of the channel (from its metrics), or None."""
        for node in self.layout.orderers():
            metrics = processes.http_text(f"http://127.0.0.1:{node.operations_port}/metrics")
            for line in (metrics or "").splitlines():
                if line.startswith("consensus_etcdraft_is_leader{") and line.endswith(" 1"):
                    return node.label
        return None

    def _wait_for_raft_leader(self, timeout: float = 30.0) -> None:
        """Wait for a Raft leader; if none emerges, restart the orderers one at a time.

        Observed with Fabric 2.5.0 under heavy CPU load: after all orderers restart together,
        each can stall while replaying the bootstrap membership changes and never elect a
        leader. A staggered restart recovers them; the ledgers are untouched.
        """
        for attempt in range(3):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.raft_leader():
                    return
                time.sleep(0.5)
            self.progress(f"no Raft leader after {timeout:.0f}s; restarting orderers one by one")
            for node in self.layout.orderers():
                self.stop_node(node.label)
                self.start_node(node.label)
                time.sleep(2.0 * (attempt + 1))
        raise NodeFailedError("the orderers elected no Raft leader; see their logs")

    def _create_channel(self) -> None:
        self.progress(f"creating channel {self.layout.channel}")
        block = self.layout.channel_block
        block.parent.mkdir(parents=True, exist_ok=True)
        self.cli.run(
            "configtxgen",
            [
                "-profile",
                "MedChainChannel",
                "-outputBlock",
                str(block),
                "-channelID",
                self.layout.channel,
                "-configPath",
                str(self.layout.root / "configtx"),
            ],
        )
        for index in range(len(self.layout.orderers())):
            listed = self.cli.osnadmin(index, ["channel", "list"], retries=5)
            if f'"{self.layout.channel}"' not in listed:
                self.cli.osnadmin(
                    index,
                    [
                        "channel",
                        "join",
                        "--channelID",
                        self.layout.channel,
                        "--config-block",
                        str(block),
                    ],
                    retries=5,
                )
        for org in self.layout.orgs:
            joined = self.cli.peer(org, ["channel", "list"], retries=5)
            if self.layout.channel not in joined.split("Channels peers has joined:")[-1]:
                self.cli.peer(org, ["channel", "join", "-b", str(block)], retries=10)

    def _ensure_chaincode(self, current: ChaincodeDeployment | None) -> ChaincodeDeployment:
        digest = chaincode.source_hash()
        lifecycle = chaincode.Lifecycle(self.cli)
        committed = lifecycle.committed()
        plan = chaincode.next_deployment(current, committed, digest)
        binary = chaincode.build_server(self.layout, digest)
        if plan is None and current is not None:
            self._run_chaincode_servers(binary, current.package_ids, restart=False)
            return current
        version, sequence = plan if plan else ("1.0", 1)
        self.progress(
            f"deploying chaincode {self.layout.chaincode_name} {version} (sequence {sequence})"
        )
        ids = lifecycle.deploy(version, sequence)
        self._run_chaincode_servers(binary, ids, restart=True)
        return ChaincodeDeployment(
            version=version, sequence=sequence, source_hash=digest, package_ids=ids
        )

    def _run_chaincode_servers(self, binary: Path, ids: dict[str, str], *, restart: bool) -> None:
        specs = [
            chaincode.server_spec(self.layout, org, binary, ids[org]) for org in self.layout.orgs
        ]
        for spec in specs:
            if restart:
                processes.stop(spec.pid_file)
            if not processes.read_pid(spec.pid_file):
                port = int(spec.env["CHAINCODE_SERVER_ADDRESS"].rsplit(":", 1)[1])
                processes.wait_port_free(port)
                processes.check_ports_free({port: spec.name})
                processes.start(spec)
        for spec in specs:
            port = int(spec.env["CHAINCODE_SERVER_ADDRESS"].rsplit(":", 1)[1])
            processes.wait_healthy(
                processes.ProcessSpec(**{**vars(spec), "ready_port": port}),
                self.settings.node_timeout,
            )

    def _wait_endorsable(self) -> None:
        """Wait until every hospital's Gateway can plan a majority endorsement of the chaincode.

        Peers learn each other's membership and installed chaincode through gossip, a few
        seconds after start or deployment; until then the Gateway answers "no combination of
        peers". A read-only endorsement (never submitted, so it changes nothing) probes it.
        """
        deadline = time.monotonic() + self.settings.node_timeout
        for org in self.layout.orgs:
            with connect(self.connection_profile(org)) as gateway:
                while True:
                    ctx = TransactionContext.new(gateway.identity)
                    call = Invocation(
                        channel=self.layout.channel,
                        chaincode=self.layout.chaincode_name,
                        function="study:ListStudies",
                    )
                    try:
                        gateway.invoke(
                            "endorse",
                            endorse_request(ctx, call, gateway.signer, None),
                            10.0,
                            ctx.tx_id,
                        )
                        break
                    except LedgerError as exc:
                        if time.monotonic() > deadline:
                            raise NodeFailedError(
                                f"the Gateway of {org} cannot plan endorsements: {exc}"
                            ) from exc
                        time.sleep(0.25)

    def deploy_chaincode(self) -> ChaincodeDeployment:
        """Upgrade the chaincode when its source changed (new version and sequence)."""
        current = self.state()
        if current is None or not current.channel_created:
            raise NetworkStateError("no network yet: run `medchain network up` first")
        current.chaincode = self._ensure_chaincode(current.chaincode)
        state_store.save(self.layout.state_file, current)
        self._wait_endorsable()
        return current.chaincode

    def force_upgrade(self) -> ChaincodeDeployment:
        """Deploy the next version and sequence even if the source is unchanged."""
        current = self.state()
        if current is None or current.chaincode is None:
            raise NetworkStateError("no chaincode deployed yet: run `medchain network up` first")
        current.chaincode = current.chaincode.model_copy(update={"source_hash": "forced"})
        current.chaincode = self._ensure_chaincode(current.chaincode)
        state_store.save(self.layout.state_file, current)
        self._wait_endorsable()
        return current.chaincode

    # -- down, clean, single nodes ---------------------------------------------------------------

    def down(self) -> list[str]:
        """Stop every process of the network, keeping ledgers and crypto material."""
        stopped: list[str] = []
        pid_dir = self.layout.root / "pids"
        names = [f"chaincode.{org}" for org in self.layout.orgs]
        names += [n.label for n in reversed(self.layout.nodes())]
        names += (
            sorted(p.stem for p in pid_dir.glob("*.pid") if p.stem not in names)
            if pid_dir.exists()
            else []
        )
        for name in names:
            if processes.stop(self.layout.pid_file(name)):
                stopped.append(name)
        return stopped

    def clean(self) -> list[str]:
        """Stop everything and remove all network state (ledgers, crypto, logs)."""
        stopped = self.down()
        shutil.rmtree(self.layout.root, ignore_errors=True)
        return stopped

    def node(self, label: str) -> Node:
        for node in self.layout.nodes():
            if node.label == label or node.name == label:
                return node
        raise KeyError(
            f"no node {label!r}; nodes: {', '.join(n.label for n in self.layout.nodes())}"
        )

    def stop_node(self, label: str) -> None:
        processes.stop(self.layout.pid_file(self.node(label).label))

    def start_node(self, label: str) -> None:
        self._start_nodes([self.node(label)])

    # -- status ----------------------------------------------------------------------------------

    def status(self) -> NetworkStatus:
        """Each node's health and pid, each peer's channel height, the committed definition."""
        result = NetworkStatus()
        current = self.state()
        for node in self.layout.nodes():
            pid = processes.read_pid(self.layout.pid_file(node.label))
            healthy = pid is not None and processes.http_ok(
                f"http://127.0.0.1:{node.operations_port}/healthz"
            )
            height = self._height(node.org) if node.kind == "peer" and healthy else None
            result.nodes.append(
                NodeStatus(node.label, node.kind, node.org, node.address, pid, healthy, height)
            )
        for org in self.layout.orgs:
            name = f"chaincode.{org}"
            pid = processes.read_pid(self.layout.pid_file(name))
            port = self.layout.peer(org).chaincode_server_port
            result.nodes.append(
                NodeStatus(
                    name,
                    "chaincode",
                    org,
                    f"127.0.0.1:{port}",
                    pid,
                    pid is not None and processes.port_open(port),
                )
            )
        if (
            current
            and current.chaincode
            and any(n.healthy for n in result.nodes if n.kind == "peer")
        ):
            try:
                committed = chaincode.Lifecycle(self.cli).committed()
            except CommandFailedError:
                committed = None
            result.chaincode = {
                "name": self.layout.chaincode_name,
                "committed_sequence": committed[0] if committed else None,
                "committed_version": committed[1] if committed else None,
                "package_ids": current.chaincode.package_ids,
            }
        return result

    def _height(self, org: str) -> int | None:
        try:
            out = self.cli.peer(org, ["channel", "getinfo", "-c", self.layout.channel])
        except CommandFailedError:
            return None
        marker = '"height":'
        if marker not in out:
            return None
        return int(out.split(marker, 1)[1].split(",", 1)[0].strip())
