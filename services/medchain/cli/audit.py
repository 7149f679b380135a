"""`medchain audit model HASH`: verify a model from the ledger alone, as an independent auditor.

The auditor reads the ledger with its own hospital's identity (not the coordinator's), downloads
each artifact from the aggregator, and rechecks every hash locally: it trusts neither.
"""

from __future__ import annotations

import json
from typing import Annotated

import httpx
import typer
from rich.console import Console

from medchain.aggregator.audit import audit_model
from medchain.aggregator.errors import ModelNotFoundError, TamperedArtifactError
from medchain.aggregator.model_store import decode_artifact
from medchain.common.studies import StudySpec
from medchain.common.tensors import Parameters, parameters_hash
from medchain.federation.supervisor import Federation
from medchain.ledger import LedgerError, StudyLedger, connect

app = typer.Typer(help="Independent verification from the ledger.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


class RemoteArtifacts:
    """Models and updates downloaded from the aggregator, each rechecked against its hash."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(timeout=60.0)

    def _fetch(self, digest: str) -> bytes | None:
        response = self.http.get(
            f"{self.base_url}/models/{digest}", headers={"Accept": "application/x-protobuf"}
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.content

    def get(self, digest: str) -> Parameters:
        data = self._fetch(digest)
        if data is None:
            raise ModelNotFoundError(f"the aggregator has no artifact {digest}")
        params = decode_artifact(digest, data)
        actual = parameters_hash(params)
        if actual != digest:
            raise TamperedArtifactError(f"artifact {digest} downloaded hashes to {actual}")
        return params

    def has(self, digest: str) -> bool:
        return self._fetch(digest) is not None


@app.command("model")
def model(
    model_hash: str,
    org: Annotated[str, typer.Option(help="Whose ledger identity reads the ledger.")] = "h2",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rebuild MODEL_HASH's lineage from the ledger and recheck every hash; exit 1 on mismatch."""
    federation = Federation()
    base = f"http://127.0.0.1:{federation.layout.aggregator_port}"
    artifacts = RemoteArtifacts(base)
    try:
        with connect(federation.network.connection_profile(org)) as gateway:
            ledger = StudyLedger.for_network(gateway.get_network("medchain"))
            spec = None
            try:
                study_id = ledger.model_lineage(model_hash).study_id
                response = artifacts.http.get(f"{base}/studies/{study_id}")
                if response.status_code == 200:
                    spec = StudySpec.model_validate(response.json()["spec"])
            except (LedgerError, httpx.HTTPError):
                spec = None
            report = audit_model(model_hash, ledger, artifacts, spec)
    except (LedgerError, httpx.HTTPError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        for check in report.checks:
            mark = "[green]ok[/green]  " if check.ok else "[red]FAIL[/red]"
            out.print(f"{mark} {check.name}: {check.detail}", highlight=False)
        verdict = "[green]verified[/green]" if report.ok else "[red]NOT verified[/red]"
        out.print(f"model {model_hash}: {verdict} ({len(report.checks)} checks)")
    if not report.ok:
        raise typer.Exit(1)
