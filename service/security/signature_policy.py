"""Whether a message's signature must verify, and what its documents record (SPEC §11).

``SANDAN_SIGNATURE_POLICY``:

- ``registered`` (default): a signature must verify when the sender's ``copCode`` has a
  certificate registered — revoked and expired ones included, so that a key reported stolen
  cannot sign its way to "unverified"; senders without one are accepted unverified;
- ``required``: every message carries a signature that verifies;
- ``off``: signatures are not checked.

Whatever the policy, a type whose official schema requires a signature (CEB621, CEB603 alike)
without one is ``SIGNATURE_MISSING`` — judged before the schema, so it is never reported as
``SCHEMA_INVALID``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lxml import etree

from service.messages.registry import MessageType
from service.security.certificates import RegisteredCertificate
from service.security.masking import scrub
from service.security.xmldsig import SignatureFailure, carries_signature, verify_signature

SignaturePolicy = Literal["registered", "required", "off"]


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """What each stored document of the message records."""

    status: str  # absent | unverified | verified
    serial: str | None = None


class SignatureRejected(Exception):
    """The message's signature is missing or does not verify: every document is rejected
    with ``error`` and nothing is stored."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


def judge_signature(
    root: etree._Element,
    message_type: MessageType,
    cop_code: str | None,
    certificates: Sequence[RegisteredCertificate],
    policy: SignaturePolicy,
    now: datetime,
) -> SignatureVerdict:
    present = carries_signature(root)
    path = f"/{message_type.root}/Signature"
    if not present:
        if message_type.must_be_signed or policy == "required":
            why = (
                f"{message_type.root} must be signed (ds:Signature, a child of the root)"
                if message_type.must_be_signed
                else "the signature policy requires every message to be signed"
            )
            raise SignatureRejected({"code": "SIGNATURE_MISSING", "path": path, "message": why})
        return SignatureVerdict("absent")
    if policy == "off":
        return SignatureVerdict("unverified")
    own = [c for c in certificates if c.code == cop_code]
    if not own and policy == "registered":
        return SignatureVerdict("unverified")
    try:
        verified = verify_signature(root, cop_code, own, now)
    except SignatureFailure as failure:
        raise SignatureRejected(_failure_json(failure, path)) from None
    return SignatureVerdict("verified", verified.serial)


def _failure_json(failure: SignatureFailure, path: str) -> dict[str, Any]:
    """The error every document gets. A sender's KeyName is echoed in the message (and as the
    serial when nothing registered matches): scrubbed like any free text, so a number that
    looks like an ID or a phone never comes back in clear."""
    error: dict[str, Any] = {
        "code": "SIGNATURE_INVALID",
        "path": path,
        "check": failure.check,
        "message": scrub(failure.message),
        "algorithms": {k: scrub(v) for k, v in failure.algorithms.items()},
    }
    if failure.serial is not None:
        error["serial"] = scrub(failure.serial)
    return error
