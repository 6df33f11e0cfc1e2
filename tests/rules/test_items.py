"""INVENTORY_ITEMS: inventory lines against order lines, by gnum."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from service.rules.items import inventory_items
from tests.rules.export_factory import export_bundle
from tests.rules.factory import bundle, change, change_line, compared, inventory, run

D = Decimal


def test_clean_lines_match() -> None:
    assert run(inventory_items, bundle("9610")) is None
    assert run(inventory_items, bundle("1210")) is None
    assert run(inventory_items, export_bundle("9610")) is None


def test_each_differing_field_is_reported_per_gnum() -> None:
    spoiled = change_line(inventory(), 2, qty=D("2"), totalPrice=D("1000.00"), itemName="面霜")
    docs = replace(bundle(), inventory=spoiled)
    assert compared(run(inventory_items, docs)) == [
        ("inventory", "InventoryList[2].qty", "2", "order", "OrderList[2].qty", "1"),
        (
            "inventory",
            "InventoryList[2].totalPrice",
            "1000.00",
            "order",
            "OrderList[2].totalPrice",
            "500.00",
        ),
        (
            "inventory",
            "InventoryList[2].itemName",
            "面霜",
            "order",
            "OrderList[2].itemName",
            "保湿面霜 50ml",
        ),
    ]


def test_price_difference_is_exact() -> None:
    docs = replace(bundle(), inventory=change_line(inventory(), 1, price=D("150.01")))
    found = run(inventory_items, docs, tolerance=D("1"))
    assert [c[1] for c in compared(found)] == ["InventoryList[1].price"]


def test_gname_stands_in_for_an_empty_item_name() -> None:
    # gnum 2's gname is 面霜, the order says 保湿面霜 50ml
    docs = replace(bundle(), inventory=change_line(inventory(), 2, itemName=None))
    assert compared(run(inventory_items, docs)) == [
        (
            "inventory",
            "InventoryList[2].gname",
            "面霜",
            "order",
            "OrderList[2].itemName",
            "保湿面霜 50ml",
        ),
    ]
    same_name = change_line(inventory(), 2, itemName="  ", gname="保湿面霜 50ml")
    assert run(inventory_items, replace(bundle(), inventory=same_name)) is None


def test_line_missing_from_the_inventory() -> None:
    first_only = inventory(lines=inventory().lines[:1])
    found = run(inventory_items, replace(bundle(), inventory=first_only))
    assert compared(found) == [
        ("inventory", "InventoryList.count", "1", "order", "OrderList.count", "2"),
        ("inventory", "InventoryList[2]", None, "order", "OrderList[2].itemName", "保湿面霜 50ml"),
    ]


def test_extra_inventory_line_and_renumbered_line() -> None:
    # Same count, but the inventory numbers its second line 3: gnum 2 and 3 are one-sided.
    renumbered = change_line(inventory(), 2, gnum=3)
    found = run(inventory_items, replace(bundle(), inventory=renumbered))
    assert compared(found) == [
        ("inventory", "InventoryList[2]", None, "order", "OrderList[2].itemName", "保湿面霜 50ml"),
        ("inventory", "InventoryList[3].itemName", "保湿面霜 50ml", "order", "OrderList[3]", None),
    ]


def test_needs_order_and_inventory() -> None:
    docs = change(bundle(), "inventory", lines=())
    assert run(inventory_items, replace(docs, order=None)) is None
    assert run(inventory_items, docs) is not None
