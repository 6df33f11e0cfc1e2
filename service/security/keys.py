"""API keys: generated, shown once, stored as a digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from service.messages.registry import Role

KEY_PREFIX = "sk_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the key's enterprise codes and roles."""

    key_id: int
    code: str
    codes: frozenset[str]
    roles: frozenset[Role]
    name: str | None = None
    # Extra codes a warehouse may see (configured area / ebp codes); never acted for.
    scope_codes: frozenset[str] = frozenset()
    # When the key stops working (``--expires``, or the end of a rotation's grace period).
    expires_at: datetime | None = None

    def acts_for(self, code: str | None) -> bool:
        return code is not None and code in self.codes

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    @property
    def visible_codes(self) -> frozenset[str]:
        return self.codes | self.scope_codes

    @property
    def sees_everything(self) -> bool:
        return bool(self.roles & {Role.OPERATOR, Role.ADMIN})

    def expired_at(self, when: datetime) -> bool:
        return self.expires_at is not None and when >= self.expires_at

    @property
    def label(self) -> str:
        return self.name or self.code
