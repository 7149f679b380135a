"""One gRPC channel per peer endpoint, shared by every gateway that talks to it, thread-safe."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import grpc

ChannelT = TypeVar("ChannelT")

_MAX_MESSAGE_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ChannelTarget:
    """Where a channel goes and how it trusts the peer: the key of the channel cache."""

    endpoint: str
    tls_root_cert_pem: bytes = field(repr=False)
    server_name_override: str | None = None

    def options(self) -> list[tuple[str, str | int]]:
        """gRPC channel options: TLS name override, message size and keepalive for long streams."""
        options: list[tuple[str, str | int]] = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", 60_000),
            ("grpc.keepalive_timeout_ms", 20_000),
        ]
        if self.server_name_override:
            options.append(("grpc.ssl_target_name_override", self.server_name_override))
            options.append(("grpc.default_authority", self.server_name_override))
        return options

    def credentials(self) -> grpc.ChannelCredentials:
        """TLS credentials trusting only the peer's TLS CA."""
        return grpc.ssl_channel_credentials(root_certificates=self.tls_root_cert_pem)

    def fingerprint(self) -> str:
        """A short name for logs: endpoint and the CA's digest."""
        return f"{self.endpoint}#{hashlib.sha256(self.tls_root_cert_pem).hexdigest()[:12]}"


class ChannelCache(Generic[ChannelT]):
    """Hands out one channel per target, counting users; the last release returns it to close.

    Generic over the channel type so the threaded client (`grpc.Channel`) and the asyncio client
    (`grpc.aio.Channel`, whose close is a coroutine) share the bookkeeping and each close their own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[ChannelTarget, tuple[ChannelT, int]] = {}

    def acquire(
        self, target: ChannelTarget, open_channel: Callable[[ChannelTarget], ChannelT]
    ) -> ChannelT:
        """The channel for `target`, opened on first use."""
        with self._lock:
            entry = self._entries.get(target)
            if entry is None:
                entry = (open_channel(target), 0)
            self._entries[target] = (entry[0], entry[1] + 1)
            return entry[0]

    def release(self, target: ChannelTarget) -> ChannelT | None:
        """Drop one user; return the channel when it has no users left, for the caller to close."""
        with self._lock:
            entry = self._entries.get(target)
            if entry is None:
                return None
            channel, users = entry
            if users > 1:
                self._entries[target] = (channel, users - 1)
                return None
            del self._entries[target]
            return channel

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def users(self, target: ChannelTarget) -> int:
        """How many gateways hold the channel of `target`."""
        with self._lock:
            entry = self._entries.get(target)
            return 0 if entry is None else entry[1]


def open_channel(target: ChannelTarget) -> grpc.Channel:
    """A TLS channel for the threaded client."""
    return grpc.secure_channel(target.endpoint, target.credentials(), options=target.options())


#: The process-wide cache the threaded `Gateway.connect` uses unless given another.
SHARED_CHANNELS: ChannelCache[grpc.Channel] = ChannelCache()
