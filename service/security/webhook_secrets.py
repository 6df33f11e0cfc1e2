"""Webhook signing secrets: generated, shown once, sealed at rest, and the signature itself.

A subscription's secret must be readable again to sign each delivery, so unlike an API key it
cannot be stored as a digest. It is sealed with AES-256-GCM (``cryptography``, OpenSSL) under a
key derived by HKDF-SHA256 from ``SANDAN_PII_KEY``, the one data secret every process already
holds: a copy of the database alone does not give the secrets away. Changing the PII key makes
the stored secrets unreadable (as it makes the annual ledger's hashes meaningless); such a
subscription pauses with that error and must be created again.

The signature (SPEC of issue 15): ``sha256=`` and the lower-case hex HMAC-SHA256 with the
secret string's UTF-8 bytes as the key over ``timestamp + "." + body``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"
_INFO = b"sandan webhook secret v1"
_NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """A sealed secret that this process's key cannot open (the PII key changed)."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _key(pii_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return hkdf.derive(pii_key.encode())


def seal(secret: str, pii_key: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(pii_key)).encrypt(nonce, secret.encode(), _INFO)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, pii_key: str) -> str:
    raw = base64.urlsafe_b64decode(stored.encode())
    try:
        plain = AESGCM(_key(pii_key)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _INFO)
    except InvalidTag:
        raise SecretUnreadable("the stored secret does not open with this SANDAN_PII_KEY") from None
    return plain.decode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Sandan-Signature`` header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
