"""Fabric client identities: an MSP id with its X.509 certificate, and an ECDSA P-256 signer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from medchain.ledger._protos import identities_pb2
from medchain.ledger.errors import IdentityError

#: Order of the P-256 group; a signature's s must not exceed half of it (Fabric rejects high-S).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_ORDER = P256_ORDER // 2


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signs: the MSP id and the PEM certificate the peers check signatures against."""

    msp_id: str
    certificate_pem: bytes

    def serialized(self) -> bytes:
        """The `msp.SerializedIdentity` bytes Fabric calls the creator."""
        message = identities_pb2.SerializedIdentity(
            mspid=self.msp_id, id_bytes=self.certificate_pem
        )
        data: bytes = message.SerializeToString()
        return data

    def certificate(self) -> x509.Certificate:
        """The parsed certificate."""
        return x509.load_pem_x509_certificate(self.certificate_pem)


def normalise_low_s(der_signature: bytes) -> bytes:
    """Return the same ECDSA P-256 signature with s in the lower half of the group order."""
    r, s = decode_dss_signature(der_signature)
    if s > _HALF_ORDER:
        s = P256_ORDER - s
    return encode_dss_signature(r, s)


class Signer:
    """Signs bytes with ECDSA P-256 over SHA-256: DER-encoded, low-S, as Fabric requires."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise IdentityError(f"Fabric signing needs a P-256 key, got {private_key.curve.name}")
        self._key = private_key

    @classmethod
    def from_pem(cls, pem: bytes) -> Signer:
        """A signer from an unencrypted PEM private key (PKCS#8 or SEC1), as cryptogen writes."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise IdentityError(f"cannot read private key: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise IdentityError(f"Fabric signing needs an EC key, got {type(key).__name__}")
        return cls(key)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half, to check against the certificate."""
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        """Sign the SHA-256 digest of `message`."""
        return normalise_low_s(self._key.sign(message, ec.ECDSA(hashes.SHA256())))


def _single(directory: Path, patterns: tuple[str, ...], what: str) -> Path:
    for pattern in patterns:
        found = sorted(directory.glob(pattern))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise IdentityError(f"more than one {what} in {directory}: {names}")
    raise IdentityError(f"no {what} in {directory} (looked for {', '.join(patterns)})")


def load_identity(msp_dir: Path | str, msp_id: str) -> tuple[Identity, Signer]:
    """Load the identity and signer of an MSP directory laid out as cryptogen writes it.

    The certificate is `signcerts/*.pem`; the key is `keystore/priv_sk` or `keystore/*_sk`. The key
    must belong to the certificate, or every transaction would be refused later and far away.
    """
    root = Path(msp_dir)
    if not root.is_dir():
        raise IdentityError(f"MSP directory {root} does not exist")
    cert_path = _single(root / "signcerts", ("*.pem",), "signing certificate")
    key_path = _single(root / "keystore", ("priv_sk", "*_sk"), "private key")
    try:
        cert_pem = cert_path.read_bytes()
        key_pem = key_path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read MSP material in {root}: {exc}") from exc
    identity = Identity(msp_id=msp_id, certificate_pem=cert_pem)
    try:
        cert_key = identity.certificate().public_key()
    except ValueError as exc:
        raise IdentityError(f"cannot read certificate {cert_path}: {exc}") from exc
    signer = Signer.from_pem(key_pem)
    if cert_key != signer.public_key():
        raise IdentityError(f"{key_path.name} does not belong to certificate {cert_path.name}")
    return identity, signer
