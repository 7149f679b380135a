"""`medchain network ...`: bring the local Fabric network up and down, inspect it, act as an org."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medchain.network.errors import NetworkError
from medchain.network.fabric_network import FabricNetwork, NetworkStatus

app = typer.Typer(help="The local Hyperledger Fabric network.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

Hospitals = Annotated[
    int | None,
    typer.Option("--hospitals", "-n", min=2, max=10, help="Number of hospital orgs (2-10)."),
]


@contextmanager
def _network(hospitals: int | None = None) -> Iterator[FabricNetwork]:
    """A network whose progress shows in a spinner; errors become a clear message and exit 1."""
    with console.status("preparing", spinner="dots") as status:

        def progress(message: str) -> None:
            if message.startswith("go: downloading"):
                status.update(message.replace("go: ", ""))
                return
            status.update(message)
            if not message.startswith(("compiling", "go:")) or "elapsed" not in message:
                console.log(message)

        try:
            yield FabricNetwork(hospitals=hospitals, progress=progress)
        except NetworkError as exc:
            status.stop()
            console.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(1) from exc


def _render(status: NetworkStatus) -> None:
    table = Table(title="MedChain Fabric network")
    for column in ("node", "kind", "org", "address", "pid", "health", "height"):
        table.add_column(column)
    for node in status.nodes:
        table.add_row(
            node.name,
            node.kind,
            node.org,
            node.address,
            str(node.pid or "-"),
            "[green]healthy[/green]" if node.healthy else "[red]down[/red]",
            "-" if node.height is None else str(node.height),
        )
    out.print(table)
    if status.chaincode:
        cc = status.chaincode
        out.print(
            f"chaincode {cc['name']}: version {cc['committed_version']}, "
            f"sequence {cc['committed_sequence']}"
        )


@app.command()
def up(hospitals: Hospitals = None) -> None:
    """Start (or restart) the network and deploy the chaincode; idempotent."""
    with _network(hospitals) as network:
        status = network.up()
    _render(status)
    if not status.healthy:
        raise typer.Exit(1)


@app.command()
def down() -> None:
    """Stop every node and chaincode server; ledgers are kept."""
    with _network() as network:
        stopped = network.down()
    console.print(
        f"stopped {len(stopped)} processes" + (f": {', '.join(stopped)}" if stopped else "")
    )


@app.command()
def clean() -> None:
    """Stop everything and delete all network state (ledgers, crypto material, logs)."""
    with _network() as network:
        network.clean()
        root = network.layout.root
    console.print(f"removed {root}")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Each node's health, each peer's channel height and the committed chaincode definition."""
    with _network() as network:
        result = network.status()
    if as_json:
        out.print_json(json.dumps(result.as_dict()))
    else:
        _render(result)
    if not result.healthy:
        raise typer.Exit(1)


@app.command("deploy-chaincode")
def deploy_chaincode(
    force: Annotated[bool, typer.Option(help="Upgrade even if the source is unchanged.")] = False,
) -> None:
    """Deploy the chaincode, or upgrade it (next version and sequence) when its source changed."""
    with _network() as network:
        deployment = network.force_upgrade() if force else network.deploy_chaincode()
    console.print(f"chaincode version {deployment.version}, sequence {deployment.sequence}")


@app.command()
def env(org: str) -> None:
    """Print shell exports that make the stock `peer` CLI act as ORG's admin (eval them)."""
    with _network() as network:
        try:
            variables = network.cli.peer_env(org)
        except KeyError as exc:
            console.print(f"[red]error:[/red] {exc.args[0]}")
            raise typer.Exit(2) from exc
        variables["PATH"] = f"{network.install.bin_dir}:$PATH"
        variables["ORDERER_ADDRESS"] = network.layout.orderers()[0].address
        variables["ORDERER_CA"] = str(network.layout.tls_ca("orderer"))
    for name, value in variables.items():
        quoted = f'"{value}"' if name == "PATH" else shlex.quote(value)
        out.print(f"export {name}={quoted}", highlight=False, soft_wrap=True)
