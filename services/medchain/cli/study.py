"""`medchain study create|run|show`: a study at the aggregator, from a spec file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from medchain.common.studies import StudySpec
from medchain.federation.supervisor import Federation

app = typer.Typer(help="Create, run and inspect studies.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


def _base() -> str:
    return f"http://127.0.0.1:{Federation().layout.aggregator_port}"


def _call(method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = httpx.request(method, f"{_base()}{path}", timeout=300.0, **kwargs)
    except httpx.HTTPError as exc:
        console.print(f"[red]error:[/red] aggregator unreachable: {exc}; is `medchain up` running?")
        raise typer.Exit(1) from exc
    if response.status_code >= 400:
        console.print(f"[red]error {response.status_code}:[/red] {response.text}")
        raise typer.Exit(1)
    return response.json()


@app.command()
def create(spec_file: Path) -> None:
    """Create a study from a JSON StudySpec file (validated here first)."""
    spec = StudySpec.model_validate_json(spec_file.read_text())
    created = _call("POST", "/studies", json=spec.model_dump(mode="json"))
    out.print(f"study {created['id']} created; spec hash {created['spec_hash']}")


@app.command()
def run(study_id: str) -> None:
    """Run the study's remaining rounds (in the aggregator's background)."""
    answer = _call("POST", f"/studies/{study_id}/run")
    out.print(f"study {study_id}: {'started' if answer['started'] else 'already running'}")


@app.command()
def show(study_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The study's status and its rounds with their ledger transactions."""
    study = _call("GET", f"/studies/{study_id}")
    rounds = _call("GET", f"/studies/{study_id}/rounds")
    if as_json:
        out.print_json(json.dumps({"study": study, "rounds": rounds}))
        return
    out.print(f"study {study_id}: {study['status']} {study['error']}")
    table = Table()
    for column in ("round", "metrics", "included", "model", "tx", "block"):
        table.add_column(column)
    for r in rounds:
        metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(r.get("metrics", {}).items()))
        table.add_row(
            str(r["round"]),
            metrics,
            ",".join(r.get("included", [])),
            r["model_hash"][:12],
            r["tx_id"][:12],
            str(r["block"]),
        )
    out.print(table)
