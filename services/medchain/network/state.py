"""The network's remembered facts (hospital count, ports, deployed chaincode) in state.json."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field


class ChaincodeDeployment(BaseModel):
    """The committed chaincode definition and what each hospital's server runs."""

    version: str
    sequence: int
    source_hash: str
    package_ids: dict[str, str] = Field(default_factory=dict)


class NetworkState(BaseModel):
    """What `up` created, so later commands act on the same network."""

    hospitals: int
    base_port: int
    channel: str
    fabric_version: str
    channel_created: bool = False
    chaincode: ChaincodeDeployment | None = None


def load(path: Path) -> NetworkState | None:
    """The saved state, or None before the first `up`."""
    if not path.exists():
        return None
    return NetworkState.model_validate(json.loads(path.read_text()))


def save(path: Path, state: NetworkState) -> None:
    """Write the state atomically (write then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=2))
    tmp.replace(path)
