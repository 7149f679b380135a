"""Invoke and query the chaincode through the stock `peer` CLI, as an operator would."""

from __future__ import annotations

import json
import secrets
from typing import Any

from medchain.network.fabric_network import FabricNetwork


def consent_input(org_msp: str, study: str = "study-1") -> dict[str, Any]:
    """A valid consent for a fresh random patient pseudonym."""
    return {
        "pseudonym": secrets.token_hex(32),
        "org": org_msp,
        "study": study,
        "decision": "permit",
        "validFrom": "2020-01-01T00:00:00Z",
        "validUntil": "",
        "documentHash": secrets.token_hex(32),
    }


def invoke(network: FabricNetwork, org: str, args: list[str], endorsers: list[str]) -> str:
    """Submit a transaction as `org`'s admin, endorsed by `endorsers`, waiting for the commit."""
    peers: list[str] = []
    for endorser in endorsers:
        peers += [
            "--peerAddresses",
            network.layout.peer(endorser).address,
            "--tlsRootCertFiles",
            str(network.layout.tls_ca(endorser)),
        ]
    return network.cli.peer(
        org,
        [
            "chaincode",
            "invoke",
            *network.cli.orderer_args(),
            "-C",
            network.layout.channel,
            "-n",
            network.layout.chaincode_name,
            "-c",
            json.dumps({"Args": args}),
            "--waitForEvent",
            *peers,
        ],
        retries=8,
    )


def query(network: FabricNetwork, org: str, args: list[str]) -> Any:
    """Evaluate a read on `org`'s own peer and parse the JSON it returns."""
    out = network.cli.peer(
        org,
        [
            "chaincode",
            "query",
            "-C",
            network.layout.channel,
            "-n",
            network.layout.chaincode_name,
            "-c",
            json.dumps({"Args": args}),
        ],
        retries=3,
    )
    return json.loads(out.strip().splitlines()[-1])


def record_consent(network: FabricNetwork, org: str, endorsers: list[str]) -> dict[str, Any]:
    """Record one consent for a new patient of `org`; return the input."""
    consent = consent_input(network.layout.msp_id(org))
    invoke(network, org, ["consent:Record", json.dumps(consent)], endorsers)
    return consent


def get_consent(network: FabricNetwork, org: str, consent: dict[str, Any]) -> Any:
    return query(
        network, org, ["consent:Get", consent["org"], consent["pseudonym"], consent["study"]]
    )
