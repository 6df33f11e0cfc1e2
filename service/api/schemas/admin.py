"""The admin API's answers (SPEC §11): certificates, keys, the audit log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.api.schemas.common import example

_CERTIFICATE = {
    "serial": "4f1a2b3c",
    "code": "3301960005",
    "name": "agent signing 2026",
    "algorithm": "RSA-SHA1",
    "subject": "CN=3301960005",
    "derSha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "notBefore": "2026-01-01T00:00:00Z",
    "notAfter": "2027-01-01T00:00:00Z",
    "createdAt": "2026-11-10T08:00:00.000000Z",
    "revokedAt": None,
}
_KEY = {
    "id": 3,
    "name": "agent",
    "code": "3301960005",
    "codes": ["3301960005"],
    "roles": ["agent"],
    "state": "active",
    "createdAt": "2026-11-10T08:00:00.000000Z",
    "expiresAt": None,
    "revokedAt": None,
    "lastUsedAt": "2026-11-11T00:00:01.000000Z",
    "replacedBy": None,
}


class Certificate(BaseModel):
    model_config = example(_CERTIFICATE)
    serial: str = Field(description="hex")
    code: str
    name: str | None
    algorithm: str
    subject: str
    derSha256: str
    notBefore: str | None
    notAfter: str | None
    createdAt: str | None
    revokedAt: str | None


class Certificates(BaseModel):
    model_config = example({"certificates": [_CERTIFICATE]})
    certificates: list[Certificate]


class Key(BaseModel):
    """A key as listed: never the key itself nor its hash."""

    model_config = example(_KEY)
    id: int
    name: str | None
    code: str = Field(description="its own enterprise code")
    codes: list[str]
    roles: list[str]
    state: Literal["active", "revoked", "expired", "rotated"]
    createdAt: str | None
    expiresAt: str | None
    revokedAt: str | None
    lastUsedAt: str | None
    replacedBy: int | None


class Keys(BaseModel):
    model_config = example({"keys": [_KEY]})
    keys: list[Key]


class IssuedKey(BaseModel):
    model_config = example(
        {"id": 4, "key": "sk_9bJwkAJJDxigQVfYOs-iEz10H9yV3r5O", "expiresAt": None}
    )
    id: int
    key: str = Field(description="shown in this answer only")
    expiresAt: str | None


class RotatedKey(BaseModel):
    model_config = example(
        {
            "id": 5,
            "key": "sk_TZYwkOO6uLNwY0RKKmad4tpusSsvxR1S",
            "replaces": {**_KEY, "state": "rotated", "replacedBy": 5},
        }
    )
    id: int
    key: str = Field(description="shown in this answer only")
    replaces: Key


class AuditRecord(BaseModel):
    id: int
    at: str | None
    actor: str
    action: str
    subject: str | None
    detail: dict[str, Any] | None
    prevHash: str
    hash: str


class AuditLog(BaseModel):
    model_config = example(
        {
            "records": [
                {
                    "id": 12,
                    "at": "2026-11-11T00:10:00.000000Z",
                    "actor": "admin ops",
                    "action": "key.create",
                    "subject": "key 4",
                    "detail": {"codes": ["3301960005"], "roles": ["agent"]},
                    "prevHash": "5e88489...",
                    "hash": "a665a45...",
                }
            ]
        }
    )
    records: list[AuditRecord]


class AuditCheck(BaseModel):
    model_config = example(
        {"ok": True, "count": 12, "lastHash": "a665a45...", "brokenAt": None, "problem": None}
    )
    ok: bool
    count: int
    lastHash: str | None
    brokenAt: int | None
    problem: str | None
