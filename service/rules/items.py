"""INVENTORY_ITEMS: the declaration list declares exactly the goods that were ordered.

Lines pair up by ``gnum`` (the schema makes inventory gnum 1:1 with the order's). Every pair
must agree on qty, price, totalPrice and item name; a gnum on one side only, and a different
number of lines, are reported too. Values are declared on both sides, so comparisons are exact.

The inventory's item name is its ``itemName`` (企业商品名称, what the platform sells) and only
when that is empty its ``gname`` (商品名称, the customs description), held against the order's
``itemName``. Should a gnum repeat on one side, its first line is the one compared; the line
count then differs and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from service.messages.documents import InventoryLine, OrderLine
from service.rules.bundle import BundleDocuments, RuleContext
from service.rules.catalogue import Code, finding
from service.rules.compare import pair, same
from service.rules.findings import Comparison, Finding
from service.rules.regime import RegimeView

_AMOUNTS = ("qty", "price", "totalPrice")


class _Numbered(Protocol):
    @property
    def gnum(self) -> int: ...


_Line = TypeVar("_Line", bound=_Numbered)


def _by_gnum(lines: Iterable[_Line]) -> dict[int, _Line]:
    out: dict[int, _Line] = {}
    for line in lines:
        out.setdefault(line.gnum, line)
    return out


def inventory_name(line: InventoryLine) -> tuple[str, str | None]:
    """(field, value) of the inventory line's item name: itemName, else gname."""
    if not same(line.itemName, None):
        return "itemName", line.itemName
    return "gname", line.gname


def _compare_pair(gnum: int, inv: InventoryLine, order: OrderLine) -> list[Comparison]:
    out: list[Comparison] = []
    for name in _AMOUNTS:
        left, right = getattr(inv, name), getattr(order, name)
        if not same(left, right):
            out.append(
                pair(
                    "inventory",
                    f"InventoryList[{gnum}].{name}",
                    left,
                    "order",
                    f"OrderList[{gnum}].{name}",
                    right,
                )
            )
    field, value = inventory_name(inv)
    if not same(value, order.itemName):
        out.append(
            pair(
                "inventory",
                f"InventoryList[{gnum}].{field}",
                value,
                "order",
                f"OrderList[{gnum}].itemName",
                order.itemName,
            )
        )
    return out


def inventory_items(docs: BundleDocuments, ctx: RuleContext, view: RegimeView) -> Finding | None:
    order, inventory = docs.order, docs.inventory
    if order is None or inventory is None:
        return None
    bad: list[Comparison] = []
    if len(inventory.lines) != len(order.lines):
        bad.append(
            pair(
                "inventory",
                "InventoryList.count",
                len(inventory.lines),
                "order",
                "OrderList.count",
                len(order.lines),
            )
        )
    inv_lines, order_lines = _by_gnum(inventory.lines), _by_gnum(order.lines)
    for gnum in sorted(inv_lines.keys() | order_lines.keys()):
        inv, ordered = inv_lines.get(gnum), order_lines.get(gnum)
        if inv is not None and ordered is not None:
            bad.extend(_compare_pair(gnum, inv, ordered))
        elif ordered is not None:
            # Ordered but not declared: show what is missing by its name.
            bad.append(
                pair(
                    "inventory",
                    f"InventoryList[{gnum}]",
                    None,
                    "order",
                    f"OrderList[{gnum}].itemName",
                    ordered.itemName or str(gnum),
                )
            )
        elif inv is not None:
            field, value = inventory_name(inv)
            bad.append(
                pair(
                    "inventory",
                    f"InventoryList[{gnum}].{field}",
                    value or str(gnum),
                    "order",
                    f"OrderList[{gnum}]",
                    None,
                )
            )
    return finding(Code.INVENTORY_ITEMS, bad) if bad else None
