"""REGIME_MISMATCH and REGIME_FIELDS: is the declared regime the one the documents show, and
does the inventory carry what that regime needs (SPEC §3)?

REGIME_MISMATCH lists every contradiction it sees, in this order:

1. a document whose message direction differs from the bundle's (an import order and an export
   inventory under one key);
2. a declared ``tradeMode`` that is no cross-border regime of the bundle's direction (an import
   declared 9710, 9810 or general trade 0110; an export declared 1239);
3. an order type that does not fit its message: an import order (CEB311) must say I, an export
   order (CEB303) E, B or W;
4. an inventory ``ieFlag`` that does not fit its message (CEB621 must say I, CEB603 E);
5. export only: the declared regime and the order type disagree (9710 needs B, 9810 needs W,
   9610 and 1210 need E).
"""

from __future__ import annotations

from service.messages.documents import Inventory, Order
from service.messages.registry import Direction
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import Code, finding
from service.rules.compare import pair, same, show, side
from service.rules.findings import Comparison, Finding, Side
from service.rules.regime import (
    EXPORT_ORDER_TYPES,
    IMPORT_ORDER_TYPE,
    Regime,
    RegimeView,
    evidence_document,
)

_ORDER_TYPES: dict[Direction, frozenset[str]] = {
    Direction.IMPORT: frozenset({IMPORT_ORDER_TYPE}),
    Direction.EXPORT: frozenset(EXPORT_ORDER_TYPES.values()),
}
# Bonded imports are declared as leaving the zone from China itself (SPEC §3, schema note).
BONDED_COUNTRY = "142"


def _direction_conflicts(docs: BundleDocuments, view: RegimeView) -> list[Comparison]:
    anchor = evidence_document(docs)
    if anchor is None or view.direction is None:
        return []
    return [
        pair(
            doc.kind.value,
            "direction",
            doc.direction.value,
            anchor.kind.value,
            "direction",
            view.direction.value,
        )
        for doc in docs.documents()
        if doc.direction is not view.direction
    ]


def _declared_outside_direction(docs: BundleDocuments, view: RegimeView) -> list[Comparison]:
    if view.declared is None or view.direction is None or view.declared_valid:
        return []
    # The order's type is the evidence; without an order, the direction of the messages.
    right = (
        side("order", "orderType", docs.order.orderType)
        if docs.order is not None
        else Side("computed", "direction", view.direction.value)
    )
    return [Comparison(Side("inventory", "tradeMode", view.declared), right)]


def _order_type(order: Order | None) -> list[Comparison]:
    if order is None:
        return []
    order_type = show(order.orderType)
    if order_type in _ORDER_TYPES[order.direction]:
        return []
    return [pair("order", "orderType", order_type, "order", "direction", order.direction.value)]


def _ie_flag(inventory: Inventory | None) -> list[Comparison]:
    if inventory is None or same(inventory.ieFlag, None):
        return []
    if same(inventory.ieFlag, inventory.direction.value):
        return []
    direction = inventory.direction.value
    return [pair("inventory", "ieFlag", inventory.ieFlag, "inventory", "direction", direction)]


def _export_order_type(docs: BundleDocuments, view: RegimeView) -> list[Comparison]:
    order = docs.order
    if not view.is_export or not view.declared_valid or order is None:
        return []
    if order.direction is not Direction.EXPORT:
        return []  # already a direction conflict
    order_type = show(order.orderType)
    wanted = EXPORT_ORDER_TYPES.get(view.declared or "")
    if order_type not in _ORDER_TYPES[Direction.EXPORT] or order_type == wanted:
        return []  # a nonsense order type is reported once, by _order_type
    return [pair("inventory", "tradeMode", view.declared, "order", "orderType", order_type)]


def regime_mismatch(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    bad = [
        *_direction_conflicts(docs, view),
        *_declared_outside_direction(docs, view),
        *_order_type(docs.order),
        *_ie_flag(docs.inventory),
        *_export_order_type(docs, view),
    ]
    return finding(Code.REGIME_MISMATCH, bad) if bad else None


# Head fields each regime needs filled (SPEC §3), and whether every line needs itemRecordNo.
_HEAD_FIELDS: dict[Regime, tuple[str, ...]] = {
    Regime.IMPORT_9610: ("trafNo", "voyageNo", "billNo"),
    Regime.IMPORT_1210: ("emsNo", "areaCode"),
    Regime.IMPORT_1239: ("emsNo", "areaCode"),
    Regime.EXPORT_1210: ("emsNo", "iacCode"),
}
_LINE_RECORD = frozenset({Regime.IMPORT_1210, Regime.IMPORT_1239, Regime.EXPORT_1210})
_BONDED_COUNTRY = frozenset({Regime.IMPORT_1210, Regime.IMPORT_1239})


def regime_fields(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    inventory, regime = docs.inventory, view.regime
    if inventory is None or regime is None:
        return None
    # Why the field is needed: the declaration itself, or (when that is unusable) the evidence.
    reason = (
        Side("inventory", "tradeMode", view.declared)
        if view.declared_valid
        else Side("computed", "regime", regime.code)
    )
    bad = [
        Comparison(Side("inventory", name, None), reason)
        for name in _HEAD_FIELDS.get(regime, ())
        if same(getattr(inventory, name), None)
    ]
    if regime in _LINE_RECORD:
        bad.extend(
            Comparison(Side("inventory", f"InventoryList[{line.gnum}].itemRecordNo", None), reason)
            for line in inventory.lines
            if same(line.itemRecordNo, None)
        )
    if regime in _BONDED_COUNTRY and not same(inventory.country, BONDED_COUNTRY):
        bad.append(
            pair(
                "inventory",
                "country",
                inventory.country,
                "computed",
                "country",
                BONDED_COUNTRY,
            )
        )
    return finding(Code.REGIME_FIELDS, bad) if bad else None
