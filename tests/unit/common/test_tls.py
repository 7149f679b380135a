"""Mutual TLS: consortium clients get through, clients without a consortium certificate do not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from medchain.common.tls import (
    TLSFiles,
    channel_credentials,
    issue_certificate,
    server_credentials,
    write_service_tls,
)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def consortium(tmp_path: Path) -> dict[str, TLSFiles]:
    h1 = make_ca(tmp_path / "ca", "tlsca.h1")
    h2 = make_ca(tmp_path / "ca", "tlsca.h2")
    outsider = make_ca(tmp_path / "ca", "tlsca.outsider")
    trusted = [h1[0], h2[0]]
    return {
        "server": write_service_tls(tmp_path / "h1", "trainer.h1", *h1, trusted),
        "client": write_service_tls(tmp_path / "h2", "aggregator.h2", *h2, trusted),
        "outsider": write_service_tls(tmp_path / "x", "intruder", *outsider, [outsider[0]]),
    }


@pytest.fixture
def server_port(consortium: dict[str, TLSFiles]) -> Iterator[int]:
    server = grpc.server(ThreadPoolExecutor(2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_secure_port("127.0.0.1:0", server_credentials(consortium["server"]))
    server.start()
    yield port
    server.stop(None)


def _check(port: int, creds: grpc.ChannelCredentials) -> int:
    with grpc.secure_channel(f"127.0.0.1:{port}", creds) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
        return int(reply.status)


def test_consortium_client_is_admitted(consortium: dict[str, TLSFiles], server_port: int) -> None:
    status = _check(server_port, channel_credentials(consortium["client"]))
    assert status == health_pb2.HealthCheckResponse.SERVING


def test_client_from_another_ca_is_refused(
    consortium: dict[str, TLSFiles], server_port: int
) -> None:
    foreign = grpc.ssl_channel_credentials(
        root_certificates=consortium["client"].trusted_cas.read_bytes(),
        private_key=consortium["outsider"].key.read_bytes(),
        certificate_chain=consortium["outsider"].cert.read_bytes(),
    )
    with pytest.raises(grpc.RpcError) as caught:
        _check(server_port, foreign)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_without_certificate_is_refused(
    consortium: dict[str, TLSFiles], server_port: int
) -> None:
    anonymous = grpc.ssl_channel_credentials(consortium["client"].trusted_cas.read_bytes())
    with pytest.raises(grpc.RpcError):
        _check(server_port, anonymous)


def test_certificate_is_issued_once_and_names_loopback(consortium: dict[str, TLSFiles]) -> None:
    files = consortium["server"]
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"


def test_issue_refuses_a_non_ec_ca_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    ca_cert, _ = make_ca(tmp_path, "ca")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="EC key"):
        issue_certificate(ca_cert.read_bytes(), rsa_key, "x")
