"""Entry point of the `medchain` command: one typer app with a sub-app per area."""

from __future__ import annotations

import typer

from medchain.cli import network

app = typer.Typer(
    name="medchain",
    help="MedChain: federated learning across hospitals on a Hyperledger Fabric ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(network.app, name="network")


if __name__ == "__main__":
    app()
