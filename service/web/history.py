"""A bundle's history and returns laid out for reading: each event named, its details
labelled, codes (kinds, states, decisions) to be put in words. Labels and codes are keys of
``service.web.i18n``, translated by the template in the page's language.

The values come from the bundle view as they are (personal data never reaches it in clear:
reasons are scrubbed when stored); this module only chooses labels and order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# What each event shows, in order: (detail key, label key, whether the value is a code to name)
_DETAILS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "document": (
        ("kind", "document_kind", True),
        ("messageType", "message_type", False),
        ("appType", "app_type", True),
        ("guid", "guid", False),
    ),
    "attached": (("kind", "document_kind", True),),
    "decision": (
        ("decision", "decision", True),
        ("by", "by", False),
        ("seq", "seq", False),
        ("rules", "rules", False),
    ),
    "operator": (
        ("action", "action", True),
        ("decision", "decision", True),
        ("by", "who", False),
        ("reason", "why", False),
        ("seq", "seq", False),
    ),
    "late-findings": (("rules", "rules", False),),
    "lifecycle": (
        ("stateBefore", "state_before", True),
        ("value", "return_value", False),
        ("reason", "why", False),
        ("guid", "guid", False),
    ),
    "movement": (
        ("billNo", "bill_no", False),
        ("before", "bill_before", False),
        ("closed", "closed_flag", False),
        ("guid", "guid", False),
    ),
}
# Codes whose words differ from what the same code means elsewhere on the page.
_CODE_KEYS = {
    ("appType", "1"): "app_type_1",
    ("appType", "2"): "app_type_2",
    ("appType", "3"): "app_type_3",
    ("decision", "release"): "release_d",
    ("decision", "exception"): "exception_d",
    ("decision", "reject"): "reject_d",
    ("decision", "cancel"): "cancel_d",
    ("decision", "return"): "return_d",
    ("decision", "close"): "close_d",
}


@dataclass(frozen=True, slots=True)
class Detail:
    key: str
    label: str  # an i18n key
    value: str
    is_code: bool  # the value is an i18n key too


@dataclass(frozen=True, slots=True)
class Event:
    at: str
    version: int
    event: str
    kind: str | None
    label: str  # an i18n key
    details: tuple[Detail, ...]


def _label(event: Mapping[str, Any]) -> str:
    name = str(event["event"])
    if name in ("lifecycle", "movement"):
        return f"ev_{name}_{event.get('kind')}"
    return f"ev_{name}"


def _detail(key: str, label: str, value: Any, is_code: bool) -> Detail:
    if isinstance(value, list | tuple):
        return Detail(key, label, ", ".join(str(v) for v in value), False)
    if is_code:
        return Detail(key, label, _CODE_KEYS.get((key, str(value)), str(value)), True)
    return Detail(key, label, str(value), False)


def events(history: Sequence[Mapping[str, Any]]) -> list[Event]:
    """The bundle's history events, oldest first, with what each shows."""
    out = []
    for event in history:
        shown = _DETAILS.get(str(event["event"]), ())
        details = tuple(
            _detail(key, label, event[key], is_code)
            for key, label, is_code in shown
            if event.get(key) not in (None, "", [])
        )
        kind = event.get("kind")
        out.append(
            Event(
                str(event["at"]),
                int(event["version"]),
                str(event["event"]),
                str(kind) if kind is not None else None,
                _label(event),
                details,
            )
        )
    return out


_LINE_NAME = re.compile(r"^InventoryList\[(\d+)\]\.(gname|itemName)$")


def item_names(sides: Mapping[str, Any]) -> dict[int, str]:
    """gnum -> the goods' name on the inventory, so a return line reads as what went back."""
    names: dict[int, str] = {}
    inventory = sides.get("inventory")
    for row in inventory["fields"] if inventory else ():
        found = _LINE_NAME.match(str(row["field"]))
        if found and row["value"]:
            gnum = int(found.group(1))
            if found.group(2) == "gname" or gnum not in names:
                names[gnum] = str(row["value"])
    return names


def returned_total(returns: Sequence[Mapping[str, Any]]) -> str:
    """The value of every return of the bundle, summed exactly."""
    return str(sum((Decimal(str(r["value"])) for r in returns), Decimal(0)))
