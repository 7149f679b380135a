"""Mutual TLS between MedChain services: certificates issued by a hospital's CA, gRPC credentials.

Each hospital's services get a certificate signed by that hospital's TLS CA (the one cryptogen
made for its Fabric org); every service trusts the consortium's CAs, so an aggregator of one
hospital can call the trainers of all, and nobody outside the consortium can call any.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of one service: its certificate, its key, and the CAs it trusts."""

    cert: Path
    key: Path
    trusted_cas: Path

    def exists(self) -> bool:
        return self.cert.exists() and self.key.exists() and self.trusted_cas.exists()


def issue_certificate(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    common_name: str,
    *,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    days: int = 825,
) -> tuple[bytes, bytes]:
    """A new P-256 key and a certificate for it, signed by the CA, valid for server and client."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be an EC key")
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_service_tls(
    directory: Path,
    name: str,
    ca_cert: Path,
    ca_key: Path,
    trusted_cas: list[Path],
) -> TLSFiles:
    """Issue (once) a service certificate under `directory` and the trusted-CA bundle beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(directory / f"{name}.crt", directory / f"{name}.key", directory / "cas.pem")
    if not (files.cert.exists() and files.key.exists()):
        cert, key = issue_certificate(ca_cert.read_bytes(), ca_key.read_bytes(), name)
        files.key.touch(mode=0o600)
        files.key.write_bytes(key)
        files.cert.write_bytes(cert)
    files.trusted_cas.write_bytes(b"".join(path.read_bytes() for path in trusted_cas))
    return files


def server_credentials(files: TLSFiles) -> grpc.ServerCredentials:
    """Server side of mutual TLS: present our certificate, require one from a trusted CA."""
    return grpc.ssl_server_credentials(
        [(files.key.read_bytes(), files.cert.read_bytes())],
        root_certificates=files.trusted_cas.read_bytes(),
        require_client_auth=True,
    )


def channel_credentials(files: TLSFiles) -> grpc.ChannelCredentials:
    """Client side of mutual TLS."""
    return grpc.ssl_channel_credentials(
        root_certificates=files.trusted_cas.read_bytes(),
        private_key=files.key.read_bytes(),
        certificate_chain=files.cert.read_bytes(),
    )
