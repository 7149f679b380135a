"""Throwaway X.509 material for ledger tests: a TLS CA with a peer cert, and cryptogen-like MSPs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PEER_HOST = "peer0.h1.medchain.local"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _builder(
    subject: str, issuer: str, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


@dataclass(frozen=True)
class TlsMaterial:
    """A CA and a server certificate it issued for the peer host name only."""

    ca_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes


def make_tls_material() -> TlsMaterial:
    """A fresh CA and a peer TLS certificate whose only name is `PEER_HOST`."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        _builder("tlsca.h1.medchain.local", "tlsca.h1.medchain.local", ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        _builder(PEER_HOST, "tlsca.h1.medchain.local", server_key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(PEER_HOST)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return TlsMaterial(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        server_cert_pem=server_cert.public_bytes(serialization.Encoding.PEM),
        server_key_pem=_pem_key(server_key),
    )


def write_msp(root: Path, user: str = "User1@h1.medchain.local", key_name: str = "priv_sk") -> Path:
    """An MSP directory as cryptogen lays it out, with a self-signed P-256 certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _builder(user, user, key.public_key()).sign(key, hashes.SHA256())
    (root / "signcerts").mkdir(parents=True)
    (root / "keystore").mkdir()
    (root / "signcerts" / f"{user}-cert.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
    )
    (root / "keystore" / key_name).write_bytes(_pem_key(key))
    return root
