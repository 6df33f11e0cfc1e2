"""Keyed hashing of personal data.

The annual ledger and every cross-document comparison of ID and phone numbers work on an
HMAC-SHA256 of the value under a server secret: equal numbers give equal digests, and a leaked
database gives no dictionary attack without the key (an ID number has only ~10^10 values).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from service.messages.documents import Pii, PiiKind
from service.security.masking import mask_id_number, mask_phone


def keyed_digest(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.strip().upper().encode(), hashlib.sha256).hexdigest()


class PiiProtector:
    """Turns a clear ID or phone number into a ``Pii`` (masked + keyed digest).

    ``id_check`` is injected (the GB 11643 rule lives in ``service.rules``) so that the verdict
    on the clear number travels with the protected value.
    """

    def __init__(self, secret: str, id_check: Callable[[str], bool]) -> None:
        self._secret = secret.encode()
        self._id_check = id_check

    def __call__(self, value: str, kind: PiiKind) -> Pii:
        digest = keyed_digest(self._secret, value)
        if kind is PiiKind.ID_NUMBER:
            return Pii(mask_id_number(value), digest, self._id_check(value))
        return Pii(mask_phone(value), digest, None)
