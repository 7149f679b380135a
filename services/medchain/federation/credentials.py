"""Per-hospital secrets, API keys and service certificates, created once at the first `up`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from medchain.common.auth import ApiKeyFile, keys_file
from medchain.common.tls import write_service_tls
from medchain.federation.layout import FederationLayout
from medchain.network.config import Layout


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def hospital_secrets(layout: FederationLayout) -> dict[str, str]:
    """Each hospital's secret (keys pseudonyms); generated once, kept 0600 under MEDCHAIN_HOME."""
    out: dict[str, str] = {}
    for hospital in layout.orgs:
        path = layout.secret_file(hospital)
        if not path.exists():
            _write_private(path, secrets.token_urlsafe(32))
        out[hospital] = path.read_text(encoding="utf-8").strip()
    return out


def api_keys(layout: FederationLayout) -> dict[str, Path]:
    """Issue one API key per hospital's IT clients (hash in the services' keys file, token 0600)."""
    keyring = ApiKeyFile(keys_file(layout.home))
    out: dict[str, Path] = {}
    for hospital in layout.orgs:
        path = layout.key_file(hospital)
        if not path.exists():
            issued = keyring.issue(hospital, "hospital-it")
            _write_private(path, issued.token + "\n")
        out[hospital] = path
    return out


def read_key(layout: FederationLayout, hospital: str) -> str:
    path = layout.key_file(hospital)
    if not path.exists():
        raise FileNotFoundError(f"no API key for {hospital}: run `medchain up` first")
    return path.read_text(encoding="utf-8").strip()


def service_tls(layout: FederationLayout, network: Layout) -> dict[str, tuple[Path, Path, Path]]:
    """A certificate per hospital's services (from its TLS CA) and one for the aggregator."""
    trusted = [network.tls_ca(org) for org in network.orgs]
    out: dict[str, tuple[Path, Path, Path]] = {}
    for hospital in [*layout.orgs, "aggregator"]:
        org = layout.orgs[0] if hospital == "aggregator" else hospital
        ca_dir = network.tls_ca(org).parent
        files = write_service_tls(
            layout.tls_dir(hospital),
            f"{hospital}.services",
            network.tls_ca(org),
            ca_dir / "priv_sk",
            trusted,
        )
        out[hospital] = (files.cert, files.key, files.trusted_cas)
    return out
