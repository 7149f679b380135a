"""Identities from cryptogen MSP directories and ECDSA P-256 low-S signatures."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from medchain.common.errors import ConfigurationError
from medchain.ledger._protos import identities_pb2
from medchain.ledger.errors import IdentityError
from medchain.ledger.identity import P256_ORDER, Identity, Signer, load_identity, normalise_low_s

from .certs import write_msp


def test_loads_cryptogen_layout_with_priv_sk(msp_dir: Path) -> None:
    identity, signer = load_identity(msp_dir, "h1MSP")

    assert identity.msp_id == "h1MSP"
    assert identity.certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert identity.certificate().public_key() == signer.public_key()


def test_loads_older_cryptogen_key_names(tmp_path: Path) -> None:
    msp = write_msp(tmp_path / "msp", key_name="0f3a9c_sk")

    identity, _ = load_identity(msp, "h2MSP")

    assert identity.msp_id == "h2MSP"


def test_serialized_is_a_serialized_identity(msp_dir: Path) -> None:
    identity, _ = load_identity(msp_dir, "h1MSP")

    decoded = identities_pb2.SerializedIdentity.FromString(identity.serialized())

    assert decoded.mspid == "h1MSP"
    assert decoded.id_bytes == identity.certificate_pem


def test_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    msp = write_msp(tmp_path / "a")
    other = write_msp(tmp_path / "b")
    (msp / "keystore" / "priv_sk").write_bytes((other / "keystore" / "priv_sk").read_bytes())

    with pytest.raises(IdentityError, match="does not belong"):
        load_identity(msp, "h1MSP")


def test_missing_material_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_identity(tmp_path / "nowhere", "h1MSP")
    msp = write_msp(tmp_path / "msp")
    (msp / "keystore" / "priv_sk").unlink()
    with pytest.raises(IdentityError, match="no private key"):
        load_identity(msp, "h1MSP")


def test_two_certificates_are_ambiguous(tmp_path: Path) -> None:
    msp = write_msp(tmp_path / "msp")
    (msp / "signcerts" / "second.pem").write_bytes(b"x")

    with pytest.raises(IdentityError, match="more than one signing certificate"):
        load_identity(msp, "h1MSP")


def test_only_p256_keys_sign() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(IdentityError, match="P-256"):
        Signer.from_pem(pem)
    with pytest.raises(IdentityError, match="cannot read private key"):
        Signer.from_pem(b"not a key")


def test_signatures_verify_and_are_always_low_s(user: tuple[Identity, Signer]) -> None:
    identity, signer = user
    public_key = identity.certificate().public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)

    # Half of raw ECDSA signatures are high-S; 200 of them all low by chance has odds 2**-200.
    for i in range(200):
        message = f"message {i}".encode()
        signature = signer.sign(message)
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        _, s = decode_dss_signature(signature)
        assert s <= P256_ORDER // 2


def test_normalise_flips_a_high_s_and_keeps_it_valid(user: tuple[Identity, Signer]) -> None:
    identity, signer = user
    public_key = identity.certificate().public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    r, s = decode_dss_signature(signer.sign(b"m"))
    high = encode_dss_signature(r, P256_ORDER - s)  # the other valid signature, high-S
    public_key.verify(high, b"m", ec.ECDSA(hashes.SHA256()))

    low = normalise_low_s(high)

    assert decode_dss_signature(low) == (r, s)
    public_key.verify(low, b"m", ec.ECDSA(hashes.SHA256()))
    assert normalise_low_s(low) == low
