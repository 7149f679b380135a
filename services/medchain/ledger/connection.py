"""How to reach a peer's Gateway as one user (`ConnectionProfile`), and connecting from one."""

from __future__ import annotations

from pathlib import Path

import grpc
from pydantic import BaseModel, ConfigDict, Field

from medchain.ledger.aio import AsyncGateway
from medchain.ledger.channels import SHARED_CHANNELS, ChannelCache
from medchain.ledger.errors import IdentityError
from medchain.ledger.gateway import Gateway
from medchain.ledger.identity import Identity, Signer, load_identity
from medchain.ledger.policy import DEFAULT_DEADLINES, Deadlines


class ConnectionProfile(BaseModel):
    """A peer endpoint, the CA its TLS certificate chains to, and the MSP to sign as.

    For the local network: endpoint `127.0.0.1:<port>`, server name `peer0.h1.medchain.local`,
    TLS CA `.../peers/peer0.h1.medchain.local/tls/ca.crt`, MSP id `h1MSP` and MSP directory
    `.../users/User1@h1.medchain.local/msp`.
    """

    model_config = ConfigDict(frozen=True)

    peer_endpoint: str = Field(min_length=1, description="host:port of the peer's Gateway")
    tls_root_cert_path: Path = Field(description="PEM CA certificate of the peer's TLS cert")
    server_name_override: str | None = Field(
        default=None, description="TLS name to expect when it differs from the endpoint host"
    )
    msp_id: str = Field(min_length=1)
    msp_dir: Path = Field(description="cryptogen MSP directory: signcerts/ and keystore/")

    def load_identity(self) -> tuple[Identity, Signer]:
        """The identity and signer of `msp_dir`."""
        return load_identity(self.msp_dir, self.msp_id)

    def tls_root_cert(self) -> bytes:
        """The PEM bytes of the TLS root certificate."""
        try:
            return self.tls_root_cert_path.read_bytes()
        except OSError as exc:
            raise IdentityError(f"cannot read TLS root certificate: {exc}") from exc


def connect(
    profile: ConnectionProfile,
    deadlines: Deadlines = DEFAULT_DEADLINES,
    *,
    channel_cache: ChannelCache[grpc.Channel] = SHARED_CHANNELS,
) -> Gateway:
    """A threaded gateway for `profile`."""
    identity, signer = profile.load_identity()
    return Gateway.connect(
        profile.peer_endpoint,
        identity,
        signer,
        profile.tls_root_cert(),
        profile.server_name_override,
        deadlines,
        channel_cache=channel_cache,
    )


def connect_async(
    profile: ConnectionProfile, deadlines: Deadlines = DEFAULT_DEADLINES
) -> AsyncGateway:
    """An asyncio gateway for `profile`; call it from inside the running event loop."""
    identity, signer = profile.load_identity()
    return AsyncGateway.connect(
        profile.peer_endpoint,
        identity,
        signer,
        profile.tls_root_cert(),
        profile.server_name_override,
        deadlines,
    )
