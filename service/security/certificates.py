"""Senders' signing certificates (SPEC §11): what a PEM file holds, read once on registration.

``cryptography`` parses every X.509 certificate, RSA or SM2; it has no SM2 public keys, so an
SM2 certificate's key is recognised here by its curve and left to ``service.security.sm`` (the
system libcrypto) when a signature is verified.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

# GM/T 0006: the SM2 curve, and the id-ecPublicKey algorithm that SM2 certificates carry.
SM2_CURVE_OID = "1.2.156.10197.1.301"


class CertificateRefused(ValueError):
    """A file that is not a certificate Sandan can verify signatures with."""


def serial_hex(serial: int) -> str:
    """The serial as ``openssl x509 -serial`` prints it: its big-endian bytes in lower-case
    hex, two digits a byte, a leading zero kept (``0x0A`` → ``0a``)."""
    return serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big").hex()


def serial_number(text: str) -> str:
    """A serial written in hex, as a number: case and leading zeros do not matter (what
    ``ds:KeyName`` is compared by). Raises ``ValueError`` when ``text`` is not hex."""
    cleaned = text.strip().replace(":", "").replace(" ", "")
    return format(int(cleaned, 16), "x")


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """A parsed certificate: what is stored beside its PEM and what verification needs."""

    serial: str  # serial_hex: as printed to the user
    serial_number: str  # serial_number: as matched against KeyName
    algorithm: str  # "rsa" | "sm2"
    der: bytes
    der_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True, slots=True)
class RegisteredCertificate:
    """A certificate registered for an enterprise code, as the verifier sees it.

    Plain values only (it is handed to prepare worker processes, so it pickles).
    """

    code: str
    info: CertificateInfo
    revoked_at: datetime | None = None
    name: str | None = None

    def active_at(self, when: datetime) -> bool:
        return state_at(when, self.info.not_before, self.info.not_after, self.revoked_at) == ACTIVE


ACTIVE = "active"


def state_at(
    when: datetime, not_before: datetime, not_after: datetime, revoked_at: datetime | None
) -> str:
    """What a registered certificate counts as at ``when``: ``active`` only inside its
    validity period and before its revocation, else ``revoked``, ``not_yet_valid`` or
    ``expired``."""
    if revoked_at is not None and when >= revoked_at:
        return "revoked"
    if when < not_before:
        return "not_yet_valid"
    if when > not_after:
        return "expired"
    return ACTIVE


def _algorithm(cert: x509.Certificate) -> str:
    try:
        key = cert.public_key()
    except UnsupportedAlgorithm as exc:
        if SM2_CURVE_OID in str(exc):
            return "sm2"
        raise CertificateRefused(f"unsupported public key: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    raise CertificateRefused(
        f"unsupported public key {type(key).__name__}: Sandan verifies RSA and SM2 signatures"
    )


def load_certificate(data: bytes) -> CertificateInfo:
    """One PEM (or DER) certificate, read; ``CertificateRefused`` says why not."""
    try:
        if b"-----BEGIN" in data:
            cert = x509.load_pem_x509_certificate(data)
        else:
            cert = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateRefused(f"not an X.509 certificate: {exc}") from None
    der = cert.public_bytes(Encoding.DER)
    return CertificateInfo(
        serial=serial_hex(cert.serial_number),
        serial_number=format(cert.serial_number, "x"),
        algorithm=_algorithm(cert),
        der=der,
        der_sha256=hashlib.sha256(der).hexdigest(),
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
