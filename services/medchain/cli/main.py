"""Entry point of the `medchain` command: one typer app with a sub-app per area."""

from __future__ import annotations

import typer

from medchain.cli import audit, demo, federation, network, study

app = typer.Typer(
    name="medchain",
    help="MedChain: federated learning across hospitals on a Hyperledger Fabric ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
federation.register(app)
demo.register(app)
app.add_typer(network.app, name="network")
app.add_typer(study.app, name="study")
app.add_typer(audit.app, name="audit")


if __name__ == "__main__":
    app()
