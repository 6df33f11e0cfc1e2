"""What a rule reports: a finding, and the fields it compared with the value seen on each side.

A finding is stored with its bundle, rendered in the review UI (both values side by side) and
returned by the API, so its JSON shape is part of the external interface (SPEC §6.2). Values are
text: decimals as written (no float round trip) and personal data only in its masked form; a
finding never carries a clear ID or phone number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    # An error makes the bundle an exception; a warning is recorded and does not block release.
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison.

    ``document`` is a document kind ("order", "payment", "logistics", "inventory") or where a
    value came from otherwise: "computed" (derived by the rule), "ledger" (the buyer's annual
    total), "config" (a threshold). ``field`` keeps the official spelling, with line fields
    addressed by gnum: ``OrderList[2].totalPrice``.
    """

    document: str
    field: str
    value: str | None

    def to_json(self) -> dict[str, Any]:
        return {"document": self.document, "field": self.field, "value": self.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Side:
        value = data.get("value")
        return cls(str(data["document"]), str(data["field"]), None if value is None else str(value))


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two values a rule held against each other (mostly: two that should agree and did not).

    By convention ``left`` is the document under test and ``right`` the reference it is held
    against (the order, a computation, a limit)."""

    left: Side
    right: Side

    def to_json(self) -> dict[str, Any]:
        return {"left": self.left.to_json(), "right": self.right.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(Side.from_json(data["left"]), Side.from_json(data["right"]))


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message_zh: str
    message_en: str
    fields: tuple[Comparison, ...]

    @property
    def blocks(self) -> bool:
        """Whether this finding alone keeps the bundle from being released."""
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "fields": [c.to_json() for c in self.fields],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            code=str(data["code"]),
            severity=Severity(data["severity"]),
            message_zh=str(data["message_zh"]),
            message_en=str(data["message_en"]),
            fields=tuple(Comparison.from_json(c) for c in data.get("fields", ())),
        )
