"""Regime (监管方式) classification: what the bundle declares and what its documents support.

``declared`` is the inventory's ``tradeMode``. ``classified`` is read from the evidence:

- the direction comes from the message types (CEB311/411/511/621 are import, CEB303/403/505/
  603 export). The order, payment and waybill are evidence; the inventory is the declaration
  under test, so it decides the direction only when it is the sole document;
- import: 9610 and 1210 documents have the same shape and differ only in which optional fields
  are filled (and the official samples fill all of them), so the fields cannot overrule a
  declared import regime. A declared 9610, 1210 or 1239 is kept as classified — 1239 stays
  1239: it is its own customs code with its own entry in the required sets, though every
  check treats it like 1210. A missing regime field is REGIME_FIELDS, not a contradiction.
  Without a usable declaration the evidence decides: a bonded account book (``emsNo``) means
  1210, anything else (including no inventory yet) 9610;
- export: the order type is decisive — B is 9710 (B2B direct export), W is 9810 (overseas
  warehouse); type E is retail, 9610 or 1210 as declared, else 1210 when the inventory names a
  special-zone enterprise or account book (``iacCode``/``emsNo``), else 9610.

``effective`` is the regime whose required set and field checks apply: the declared one when it
exists for the bundle's direction, the classified one otherwise (a nonsense declaration is
REGIME_MISMATCH, and the bundle is still judged by what its documents show).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from service.messages.documents import Document, Inventory
from service.messages.registry import BUNDLE_KINDS, Direction, Kind
from service.rules.bundle import BundleDocuments


class Regime(StrEnum):
    """A regime per direction; the value is the key of the required sets ("I9610")."""

    IMPORT_9610 = "I9610"
    IMPORT_1210 = "I1210"
    IMPORT_1239 = "I1239"
    EXPORT_9610 = "E9610"
    EXPORT_1210 = "E1210"
    EXPORT_9710 = "E9710"
    EXPORT_9810 = "E9810"

    @property
    def direction(self) -> Direction:
        return Direction(self.value[0])

    @property
    def code(self) -> str:
        """The ``tradeMode`` code as customs writes it."""
        return self.value[1:]


REGIME_CODES: Mapping[Direction, frozenset[str]] = {
    direction: frozenset(r.code for r in Regime if r.direction is direction)
    for direction in Direction
}
IMPORT_ORDER_TYPE = "I"
# The order type each export regime requires (SPEC §3).
EXPORT_ORDER_TYPES: Mapping[str, str] = {"9610": "E", "1210": "E", "9710": "B", "9810": "W"}
# Export order types that fix the regime by themselves; type E is retail (9610 or 1210).
_NON_RETAIL_EXPORT: Mapping[str | None, str] = {"B": "9710", "W": "9810"}
# Which documents speak for the direction first: the evidence before the declaration.
_DIRECTION_EVIDENCE = (Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY)


@dataclass(frozen=True, slots=True)
class RegimeView:
    direction: Direction | None
    # The inventory's tradeMode (stripped); None until an inventory arrives.
    declared: str | None
    # The regime the documents support; None only when there are no documents.
    classified: str | None

    @property
    def declared_valid(self) -> bool:
        """Whether the declared code is a cross-border regime of the bundle's direction."""
        return self.direction is not None and self.declared in REGIME_CODES[self.direction]

    @property
    def effective(self) -> str | None:
        return self.declared if self.declared_valid else self.classified

    @property
    def regime(self) -> Regime | None:
        if self.direction is None or self.effective is None:
            return None
        return Regime(self.direction.value + self.effective)

    @property
    def is_import(self) -> bool:
        return self.direction is Direction.IMPORT

    @property
    def is_export(self) -> bool:
        return self.direction is Direction.EXPORT


def evidence_document(docs: BundleDocuments) -> Document | None:
    """The document whose message type sets the bundle's direction."""
    for kind in _DIRECTION_EVIDENCE:
        doc = docs.get(kind)
        if doc is not None:
            return doc
    return None


def declared_regime(inventory: Inventory | None) -> str | None:
    if inventory is None or inventory.tradeMode is None:
        return None
    return inventory.tradeMode.strip() or None


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def _import_regime(docs: BundleDocuments, declared: str | None) -> str:
    if declared in REGIME_CODES[Direction.IMPORT]:
        return declared
    inventory = docs.inventory
    return "1210" if inventory is not None and _text(inventory.emsNo) else "9610"


def _export_regime(docs: BundleDocuments, declared: str | None) -> str:
    order_type = _text(docs.order.orderType) if docs.order is not None else None
    if order_type in _NON_RETAIL_EXPORT:
        return _NON_RETAIL_EXPORT[order_type]
    if declared in ("9610", "1210"):
        return declared
    if docs.order is None and declared in REGIME_CODES[Direction.EXPORT]:
        # 9710/9810 declared and no order yet to say otherwise.
        return declared
    inventory = docs.inventory
    zone = inventory is not None and (_text(inventory.iacCode) or _text(inventory.emsNo))
    return "1210" if zone else "9610"


def classify(docs: BundleDocuments) -> RegimeView:
    declared = declared_regime(docs.inventory)
    evidence = evidence_document(docs)
    if evidence is None:
        return RegimeView(None, declared, None)
    direction = evidence.direction
    if direction is Direction.IMPORT:
        return RegimeView(direction, declared, _import_regime(docs, declared))
    return RegimeView(direction, declared, _export_regime(docs, declared))


def required_kinds(view: RegimeView, required_sets: Mapping[str, Sequence[str]]) -> frozenset[Kind]:
    """The documents the bundle needs before it can be decided.

    Looked up by the effective regime ("I9610"). With no regime (no documents) or no configured
    set for it, all four kinds are required: an unknown case must never be released early.
    Besides the bundle's document kinds a set may name ``arrival`` (SPEC §10: the release
    waits for the consignment's 入库 / 运抵); any other name (a lifecycle kind such as
    ``cancel``) raises ``ValueError``.
    """
    regime = view.regime
    names = required_sets.get(regime.value) if regime is not None else None
    if names is None:
        return frozenset(BUNDLE_KINDS)
    kinds = frozenset(Kind(name) for name in names)
    if not kinds <= REQUIRABLE_KINDS:
        raise ValueError(f"not bundle document kinds: {sorted(kinds - REQUIRABLE_KINDS)}")
    return kinds


# What a required set may name: the bundle's documents, and its arrival.
REQUIRABLE_KINDS = frozenset((*BUNDLE_KINDS, Kind.ARRIVAL))
