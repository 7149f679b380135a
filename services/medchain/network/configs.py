"""Render Fabric configuration from the templates in `network/templates` for one Layout.

Pure functions from a Layout (and paths) to file contents; writing them is the caller's job.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

import yaml

from medchain.network.config import DOMAIN, ORDERER_ORG, Layout, Node

REPO_NETWORK_DIR = Path(__file__).resolve().parents[3] / "network"
TEMPLATES = REPO_NETWORK_DIR / "templates"
BUILDER_SOURCE = REPO_NETWORK_DIR / "builders" / "ccaas"
LOOPBACK_SANS = ("127.0.0.1", "localhost")


def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text())


def _indent(lines: list[str], spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in lines)


def crypto_config(layout: Layout) -> str:
    """cryptogen's input: one orderer org with three orderers, one peer org per hospital."""
    orderer_specs = []
    for node in layout.orderers():
        host = node.name.split(".", 1)[0]
        orderer_specs += [f"- Hostname: {host}", f"  SANS: [{', '.join(LOOPBACK_SANS)}]"]
    orgs: list[str] = []
    for org in layout.orgs:
        orgs += [
            f"- Name: {org}",
            f"  Domain: {org}.{DOMAIN}",
            "  EnableNodeOUs: true",
            "  Specs:",
            "    - Hostname: peer0",
            f"      SANS: [{', '.join(LOOPBACK_SANS)}]",
            "  Users:",
            "    Count: 2  # User1: the hospital's services; User2: its study coordinator",
        ]
    return _template("crypto-config.yaml").substitute(
        domain=DOMAIN,
        orderer_specs=_indent(orderer_specs, 6),
        hospital_orgs=_indent(orgs, 2),
    )


def configtx(layout: Layout, batch_timeout: str) -> str:
    """configtxgen's input with the MedChainChannel profile for this layout."""
    orgs: list[str] = []
    for org in layout.orgs:
        msp = layout.msp_id(org)
        peer = layout.peer(org)
        orgs += [
            f"- &{org}",
            f"  Name: {msp}",
            f"  ID: {msp}",
            f"  MSPDir: {layout.org_dir(org) / 'msp'}",
            "  Policies:",
            "    Readers: {Type: Signature, Rule: \"OR('"
            + msp
            + ".admin', '"
            + msp
            + ".peer', '"
            + msp
            + ".client')\"}",
            "    Writers: {Type: Signature, Rule: \"OR('"
            + msp
            + ".admin', '"
            + msp
            + ".client')\"}",
            "    Admins: {Type: Signature, Rule: \"OR('" + msp + ".admin')\"}",
            "    Endorsement: {Type: Signature, Rule: \"OR('" + msp + ".peer')\"}",
            "  AnchorPeers:",
            f"    - {{Host: 127.0.0.1, Port: {peer.port}}}",
        ]
    consenters: list[str] = []
    for node in layout.orderers():
        tls = layout.node_crypto(node) / "tls" / "server.crt"
        consenters += [
            "- Host: 127.0.0.1",
            f"  Port: {node.port}",
            f"  ClientTLSCert: {tls}",
            f"  ServerTLSCert: {tls}",
        ]
    return _template("configtx.yaml").substitute(
        orderer_msp_dir=layout.org_dir(ORDERER_ORG) / "msp",
        orderer_endpoints=_indent([f"- {n.address}" for n in layout.orderers()], 6),
        hospital_orgs=_indent(orgs, 2),
        batch_timeout=batch_timeout,
        consenters=_indent(consenters, 6),
        application_orgs=_indent([f"- *{org}" for org in layout.orgs], 8),
    )


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `overlay` into a copy of `base`; mappings merge, everything else replaces."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _overlay(template: str, **values: object) -> dict[str, Any]:
    loaded = yaml.safe_load(_template(template).substitute(**values))
    if not isinstance(loaded, dict):
        raise ValueError(f"{template} must hold a mapping")
    return loaded


def peer_core_yaml(layout: Layout, node: Node, sample_core: dict[str, Any]) -> dict[str, Any]:
    """The full core.yaml of one peer: Fabric's sample with MedChain's overrides."""
    crypto = layout.node_crypto(node)
    overlay = _overlay(
        "core.overrides.yaml",
        name=node.name,
        port=node.port,
        chaincode_port=node.second_port,
        operations_port=node.operations_port,
        msp_id=layout.msp_id(node.org),
        msp_dir=crypto / "msp",
        tls_dir=crypto / "tls",
        data_dir=layout.node_dir(node) / "data",
        builder_dir=layout.builders_dir / "ccaas",
    )
    return merge(sample_core, overlay)


def orderer_yaml(layout: Layout, node: Node, sample_orderer: dict[str, Any]) -> dict[str, Any]:
    """The full orderer.yaml of one orderer: Fabric's sample with MedChain's overrides."""
    crypto = layout.node_crypto(node)
    overlay = _overlay(
        "orderer.overrides.yaml",
        port=node.port,
        admin_port=node.second_port,
        operations_port=node.operations_port,
        msp_dir=crypto / "msp",
        tls_dir=crypto / "tls",
        data_dir=layout.node_dir(node) / "data",
    )
    config = merge(sample_orderer, overlay)
    config.pop("Kafka", None)  # not used by Raft; absent from Fabric v3
    return config


def connection_json(address: str) -> dict[str, Any]:
    """The CCaaS connection.json a peer uses to dial one hospital's chaincode server."""
    return {"address": address, "dial_timeout": "10s", "tls_required": False}
