"""The algorithms an enveloped CEB signature may use (SPEC §11), and checking its value.

Digests by hashlib and the system libcrypto (SM3); RSA PKCS#1 v1.5 by ``cryptography``; SM2
by ``service.security.sm``. Public keys are read once per certificate and process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from service.security import sm
from service.security.certificates import RegisteredCertificate

# digest URI -> (name, function, length in bytes)
DIGESTS: dict[str, tuple[str, Callable[[bytes], bytes], int]] = {
    "http://www.w3.org/2000/09/xmldsig#sha1": ("SHA-1", lambda b: hashlib.sha1(b).digest(), 20),
    "http://www.w3.org/2001/04/xmlenc#sha256": (
        "SHA-256",
        lambda b: hashlib.sha256(b).digest(),
        32,
    ),
    "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3": ("SM3", sm.sm3, 32),
    # the W3C-namespace spelling, as ``xmldsig#sm2-sm3`` beside the chinaport one
    "http://www.w3.org/2000/09/xmldsig#sm3": ("SM3", sm.sm3, 32),
}
# signature URI -> (key algorithm, hash for RSA)
SIGNATURES: dict[str, tuple[str, hashes.HashAlgorithm | None]] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", hashes.SHA1()),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", hashes.SHA256()),
    "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3": ("sm2", None),
    "http://www.w3.org/2000/09/xmldsig#sm2-sm3": ("sm2", None),
}


def value_verifies(
    cert: RegisteredCertificate,
    rsa_hash: hashes.HashAlgorithm | None,
    signed_info: bytes,
    value: bytes,
) -> bool:
    if cert.info.algorithm == "sm2":
        return _sm2_key(cert.info.der).verify(signed_info, value)
    assert rsa_hash is not None
    try:
        _rsa_key(cert.info.der).verify(value, signed_info, padding.PKCS1v15(), rsa_hash)
    except InvalidSignature:
        return False
    return True


@lru_cache(maxsize=1024)
def _sm2_key(der: bytes) -> sm.SM2PublicKey:
    """Keys are read once per certificate and process (reading costs as much as a digest)."""
    return sm.SM2PublicKey.from_certificate(der)


@lru_cache(maxsize=1024)
def _rsa_key(der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key
