"""The shape of the local network: organisations, nodes, ports and paths, from one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DOMAIN = "medchain.local"
ORDERER_ORG = "orderer"
ORDERER_MSP = "OrdererMSP"
ORDERER_COUNT = 3
MIN_HOSPITALS, MAX_HOSPITALS = 2, 10
#: Ports per node: listen, second listener (peer chaincode / orderer admin), operations, CCaaS.
PORTS_PER_NODE = 10


class NetworkSettings(BaseSettings):
    """`MEDCHAIN_*` settings of the local Fabric network."""

    model_config = SettingsConfigDict(env_prefix="MEDCHAIN_", extra="ignore", frozen=True)

    home: Path = Path(".medchain")
    hospitals: int = Field(default=3, ge=MIN_HOSPITALS, le=MAX_HOSPITALS)
    fabric_base_port: int = Field(default=7000, ge=1024, le=60000)
    channel: str = "medchain"
    chaincode_name: str = "medchain"
    #: Orderer batch timeout: commit latency is dominated by it.
    batch_timeout: str = "250ms"
    #: Seconds to wait for a node to report healthy.
    node_timeout: float = 60.0


@dataclass(frozen=True)
class Node:
    """One Fabric process (peer or orderer) with its ports and directories."""

    kind: str  # "peer" | "orderer"
    org: str  # "h1" ... or "orderer"
    name: str  # host name in certificates, e.g. peer0.h1.medchain.local
    index: int  # position in the port layout
    base_port: int

    @property
    def port(self) -> int:
        return self.base_port + self.index * PORTS_PER_NODE

    @property
    def second_port(self) -> int:
        """Peer: chaincode listener. Orderer: channel participation admin API."""
        return self.port + 1

    @property
    def operations_port(self) -> int:
        return self.port + 2

    @property
    def chaincode_server_port(self) -> int:
        """Peers only: the port of this hospital's chaincode-as-a-service process."""
        return self.port + 3

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        return self.name.split(".", 1)[0] + ("" if self.kind == "orderer" else f".{self.org}")

    def ports(self) -> list[int]:
        """The ports this process itself listens on (a peer's chaincode server is separate)."""
        return [self.port, self.second_port, self.operations_port]


@dataclass(frozen=True)
class Layout:
    """Where everything of one network lives under MEDCHAIN_HOME, and which nodes it has."""

    home: Path
    hospitals: int
    base_port: int
    channel: str = "medchain"
    chaincode_name: str = "medchain"

    @classmethod
    def from_settings(cls, settings: NetworkSettings, hospitals: int | None = None) -> Layout:
        count = settings.hospitals if hospitals is None else hospitals
        if not MIN_HOSPITALS <= count <= MAX_HOSPITALS:
            raise ValueError(f"hospitals must be {MIN_HOSPITALS} to {MAX_HOSPITALS}, got {count}")
        return cls(
            home=settings.home.resolve(),
            hospitals=count,
            base_port=settings.fabric_base_port,
            channel=settings.channel,
            chaincode_name=settings.chaincode_name,
        )

    @property
    def root(self) -> Path:
        return self.home / "network"

    @property
    def organizations(self) -> Path:
        return self.root / "organizations"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def orgs(self) -> list[str]:
        return [f"h{i}" for i in range(1, self.hospitals + 1)]

    @staticmethod
    def msp_id(org: str) -> str:
        return ORDERER_MSP if org == ORDERER_ORG else f"{org}MSP"

    def orderers(self) -> list[Node]:
        return [
            Node("orderer", ORDERER_ORG, f"orderer{i}.{DOMAIN}", i, self.base_port)
            for i in range(ORDERER_COUNT)
        ]

    def peers(self) -> list[Node]:
        return [
            Node("peer", org, f"peer0.{org}.{DOMAIN}", ORDERER_COUNT + i, self.base_port)
            for i, org in enumerate(self.orgs)
        ]

    def nodes(self) -> list[Node]:
        return [*self.orderers(), *self.peers()]

    def peer(self, org: str) -> Node:
        for node in self.peers():
            if node.org == org:
                return node
        raise KeyError(f"no hospital {org!r} in this network (hospitals: {', '.join(self.orgs)})")

    def node_dir(self, node: Node) -> Path:
        return self.root / "nodes" / node.name

    def org_dir(self, org: str) -> Path:
        kind = "ordererOrganizations" if org == ORDERER_ORG else "peerOrganizations"
        return self.organizations / kind / (DOMAIN if org == ORDERER_ORG else f"{org}.{DOMAIN}")

    def node_crypto(self, node: Node) -> Path:
        folder = "orderers" if node.kind == "orderer" else "peers"
        return self.org_dir(node.org) / folder / node.name

    def admin_msp(self, org: str) -> Path:
        domain = DOMAIN if org == ORDERER_ORG else f"{org}.{DOMAIN}"
        return self.org_dir(org) / "users" / f"Admin@{domain}" / "msp"

    def admin_tls(self, org: str) -> Path:
        return self.admin_msp(org).parent / "tls"

    def user_msp(self, org: str, user: str = "User1") -> Path:
        return self.org_dir(org) / "users" / f"{user}@{org}.{DOMAIN}" / "msp"

    def tls_ca(self, org: str) -> Path:
        """The TLS CA certificate of an organisation, for verifying its nodes."""
        domain = DOMAIN if org == ORDERER_ORG else f"{org}.{DOMAIN}"
        return self.org_dir(org) / "tlsca" / f"tlsca.{domain}-cert.pem"

    def log_file(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.root / "pids" / f"{name}.pid"

    @property
    def channel_block(self) -> Path:
        return self.root / "channel-artifacts" / f"{self.channel}.block"

    @property
    def chaincode_dir(self) -> Path:
        return self.root / "chaincode"

    @property
    def builders_dir(self) -> Path:
        return self.root / "builders"

    def all_ports(self) -> dict[int, str]:
        """Every port of the network, with the process that listens on it."""
        ports = {port: node.label for node in self.nodes() for port in node.ports()}
        ports |= {p.chaincode_server_port: f"chaincode.{p.org}" for p in self.peers()}
        return ports
