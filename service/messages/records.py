"""What every typed document is made of: protected personal values, typed fields, the JSON
form, and the ``Document`` base.

The bundle's documents (``messages.documents``) and the lifecycle ones
(``messages.lifecycle_documents``) build on it; ``messages.documents`` re-exports all of it, so
callers import from there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from service.messages.registry import Direction, Kind


class PiiKind(StrEnum):
    ID_NUMBER = "id"
    PHONE = "phone"


@dataclass(frozen=True, slots=True, eq=False)
class Pii:
    """A protected personal value: compare by ``digest``, show ``masked``."""

    masked: str
    digest: str
    # For ID numbers: whether the GB 11643 check holds (18 characters, right check digit).
    id_check: bool | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pii) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __str__(self) -> str:
        return self.masked

    def to_json(self) -> dict[str, Any]:
        return {"masked": self.masked, "digest": self.digest, "idCheck": self.id_check}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pii:
        return cls(data["masked"], data["digest"], data.get("idCheck"))


Protector = Callable[[str, PiiKind], Pii]
Value = str | int | Decimal | Pii | None


def pii_field(kind: PiiKind) -> Any:
    """A personal field: the codec hands its text to the ``Protector``."""
    return field(default=None, metadata={"pii": kind})


def money_field() -> Any:
    """A ``Decimal`` field (amounts, quantities, weights)."""
    return field(default=None, metadata={"type": Decimal})


def int_field() -> Any:
    return field(default=None, metadata={"type": int})


@dataclass(frozen=True, slots=True)
class Record:
    """Shared conversion between typed records and their JSON form."""

    def to_json(self) -> dict[str, Any]:
        # Every stored document goes through here on the intake path: field names come from
        # a per-class tuple and values are told apart by exact type, the common ones first.
        out: dict[str, Any] = {}
        for name in field_names(type(self)):
            value = getattr(self, name)
            kind = type(value)
            if value is None or kind is str or kind is int:
                out[name] = value
            elif kind is Decimal:
                out[name] = str(value)
            elif kind is Pii:
                out[name] = value.to_json()
            elif kind is tuple:
                out[name] = [item.to_json() for item in value]
            elif isinstance(value, StrEnum):
                out[name] = value.value
            elif isinstance(value, Pii | Decimal):
                out[name] = value.to_json() if isinstance(value, Pii) else str(value)
            else:
                out[name] = value
        return out


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class Document(Record):
    """Fields every CEB document head carries."""

    kind: ClassVar[Kind]
    line_type: ClassVar[type[Record] | None] = None

    direction: Direction = Direction.IMPORT
    guid: str = ""
    appType: str = "1"
    appTime: str = ""
    appStatus: str = "2"
    note: str | None = None

    @property
    def key(self) -> dict[str, str]:
        """The natural key customs uses for this kind (SPEC §2), for answers and receipts."""
        raise NotImplementedError
