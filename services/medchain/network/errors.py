"""Errors of the network orchestration, each with an actionable message."""

from __future__ import annotations

from medchain.common.errors import ConfigurationError, MedChainError, UnavailableError


class NetworkError(MedChainError):
    """Base of every network orchestration error."""


class ToolchainError(NetworkError, ConfigurationError):
    """Go is missing or the Fabric build failed."""


class PortBusyError(NetworkError, ConfigurationError):
    """A port the network needs is already taken by another process."""


class NodeFailedError(NetworkError, UnavailableError):
    """A node did not become healthy; the message names it and its log file."""


class CommandFailedError(NetworkError):
    """A Fabric tool (peer, osnadmin, configtxgen, cryptogen) exited non-zero."""

    def __init__(self, command: list[str], output: str) -> None:
        tool = command[0].rsplit("/", 1)[-1]
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        reason = (errors[-1] if errors else output.strip()[-1000:])[:1000]
        super().__init__(f"{tool} {' '.join(command[1:3])} failed: {reason}")
        self.command = command
        self.output = output


class NetworkStateError(NetworkError, ConfigurationError):
    """The existing network state does not match what was asked (e.g. another hospital count)."""
