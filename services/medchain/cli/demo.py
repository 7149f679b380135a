"""`medchain demo`: bring the federation up if needed and run a whole study on real data."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from medchain.cli.progress import progress_reporter
from medchain.demo.runner import DemoOptions, DemoRun
from medchain.federation.supervisor import Federation
from medchain.network.errors import NetworkError

console = Console(stderr=True)
out = Console()


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        dataset: Annotated[
            str, typer.Option(help="breast-cancer, diabetes or lung")
        ] = "breast-cancer",
        rounds: Annotated[int, typer.Option(min=1, max=100)] = 5,
        dp: Annotated[
            float | None, typer.Option("--dp", help="Differential privacy budget epsilon.")
        ] = None,
        hospitals: Annotated[int | None, typer.Option("--hospitals", min=2, max=10)] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Post a dataset as FHIR to each hospital, record consents, and train a model together."""
        report = progress_reporter(console)
        try:
            federation = Federation(hospitals=hospitals, progress=report)
            with console.status("bringing the federation up"):
                federation.up()
            result = DemoRun(
                federation.layout,
                DemoOptions(dataset=dataset, rounds=rounds, dp_epsilon=dp),
                report,
            ).run()
        except (NetworkError, RuntimeError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
        if as_json:
            out.print(json.dumps(result, indent=2), highlight=False)
            return
        metric = result["dataset_metric"]
        out.print(f"\nstudy {result['study_id']}: {result['status']}")
        for r in result["rounds"]:
            out.print(
                f"  round {r['round']}: {metric} {r[metric]:.4f}"
                f"  tx {r['tx_id']}  block {r['block']}"
            )
        out.print(f"pooled-data baseline: {metric} {result['pooled_baseline']:.4f}")
        out.print(f"local-only models (mean): {metric} {result['local_only_mean']:.4f}")
        for org, c in result["contributions"].items():
            out.print(
                f"  {org}: {c['samples']} training samples, update tx {c['update_tx_id'][:16]}…"
            )
        out.print(f"privacy spent (epsilon): {result['privacy_spent']}")
        out.print(f"final model: {result['final_model_hash']}")
        out.print(f"dashboard: {result['dashboard_url']}")
