"""`medchain up|down|status|keys|logs`: the whole federation on this machine."""

from __future__ import annotations

import json
import subprocess
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medchain.cli.progress import progress_reporter
from medchain.federation.credentials import read_key
from medchain.federation.supervisor import ComponentStatus, Federation
from medchain.network.errors import NetworkError

console = Console(stderr=True)
out = Console()

Hospitals = Annotated[
    int | None, typer.Option("--hospitals", "-n", min=2, max=10, help="Hospitals (2-10).")
]


def open_federation(hospitals: int | None = None, *, quiet: bool = False) -> Federation:
    """A Federation whose progress shows on stderr; errors exit 1 with their message."""
    try:
        return Federation(
            hospitals=hospitals, progress=None if quiet else progress_reporter(console)
        )
    except NetworkError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc


def render(rows: list[ComponentStatus]) -> None:
    table = Table(title="MedChain federation")
    for column in ("component", "hospital", "kind", "url", "health", "pid", "height"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.name,
            row.hospital,
            row.kind,
            row.url,
            "[green]healthy[/green]" if row.healthy else "[red]down[/red]",
            str(row.pid or "-"),
            "-" if row.height is None else str(row.height),
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the federation commands to the top-level app."""

    @app.command()
    def up(hospitals: Hospitals = None) -> None:
        """Bring up the network, the chaincode and every hospital's services plus the aggregator."""
        federation = open_federation(hospitals)
        try:
            with console.status("starting the federation"):
                rows = federation.up()
        except NetworkError as exc:
            console.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(1) from exc
        render(rows)
        layout = federation.layout
        out.print(f"aggregator: http://127.0.0.1:{layout.aggregator_port}  (dashboard at /)")
        for hospital in layout.orgs:
            out.print(
                f"{hospital}: API key in {layout.key_file(hospital)}  (`medchain keys {hospital}`)"
            )
        if not all(r.healthy for r in rows):
            raise typer.Exit(1)

    @app.command()
    def down() -> None:
        """Stop every service and node; ledgers, databases and keys are kept."""
        stopped = open_federation().down()
        console.print(f"stopped {len(stopped)} processes")

    @app.command()
    def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Every component: hospital, kind, URL, health, pid, and each peer's ledger height."""
        rows = open_federation(quiet=True).status()
        if as_json:
            out.print_json(
                json.dumps(
                    {
                        "healthy": all(r.healthy for r in rows),
                        "components": [r.as_dict() for r in rows],
                    }
                )
            )
        else:
            render(rows)
        if not all(r.healthy for r in rows):
            raise typer.Exit(1)

    @app.command()
    def keys(hospital: str) -> None:
        """Print the API key that HOSPITAL's IT clients use (bearer token)."""
        federation = open_federation(quiet=True)
        if hospital not in federation.layout.orgs:
            console.print(
                f"[red]error:[/red] no hospital {hospital!r} ({', '.join(federation.layout.orgs)})"
            )
            raise typer.Exit(2)
        try:
            out.print(read_key(federation.layout, hospital), highlight=False)
        except FileNotFoundError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc

    @app.command()
    def logs(
        component: str,
        lines: Annotated[int, typer.Option("--lines", "-n")] = 50,
        follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    ) -> None:
        """Show a component's log (e.g. `ingest.h1`, `aggregator`, `peer0.h2`, `orderer0`)."""
        try:
            path = open_federation(quiet=True).log_file(component)
        except FileNotFoundError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
        subprocess.run(["tail", "-n", str(lines), *(["-f"] if follow else []), path], check=False)
