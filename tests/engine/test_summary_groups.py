"""The groups of an export summary (engine.summary_groups): what goes together, the
numbering, and sums exact to the last of the five decimals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from service.engine.sum_no import is_sum_no, sum_no_for
from service.engine.summary_groups import group, ten_digit
from service.messages.documents import Inventory, InventoryLine
from service.messages.registry import Direction


def line(gnum: int, gcode: str, gname: str, qty: str, total: str, **extra: str) -> InventoryLine:
    values = {"country": "502", "currency": "142", "unit": "011", **extra}
    return InventoryLine(
        gnum=gnum, gcode=gcode, gname=gname, qty=Decimal(qty), totalPrice=Decimal(total), **values
    )


def inventory(owner: str, *lines: InventoryLine, gross: str = "1.5") -> Inventory:
    return Inventory(
        direction=Direction.EXPORT,
        ownerCode=owner,
        logisticsNo=f"EY{owner}",
        country="502",
        currency="142",
        grossWeight=Decimal(gross),
        netWeight=Decimal(gross) - Decimal("0.1"),
        lines=tuple(lines),
    )


A = inventory(
    "OWNER1",
    line(1, "3304990099", "保湿面霜", "1", "0.10001"),
    line(2, "3304990099", "保湿乳液", "2", "0.20002"),
)
B = inventory(
    "OWNER2",
    line(1, "3304990099", "保湿面霜", "3", "0.30003"),
    line(2, "6404199000", "运动鞋", "1", "899"),
    gross="2.25",
)


def test_lines_of_one_gcode_country_currency_and_unit_make_one_group() -> None:
    g = group([("E2", B), ("E1", A)], by_item_name=False, by_owner=False)
    assert [(x.gseqno, x.gcode, x.qty, x.totalPrice) for x in g.lines] == [
        (1, "3304990099", Decimal("6"), Decimal("0.60006")),
        (2, "6404199000", Decimal("1"), Decimal("899")),
    ]
    # numbered by invtNo, then gnum: E1's lines come first, whatever order they came in
    assert [(i.invtNo, i.gnum, i.gseqno) for i in g.items] == [
        ("E1", 1, 1),
        ("E1", 2, 1),
        ("E2", 1, 1),
        ("E2", 2, 2),
    ]
    assert g.lines[0].gname == "保湿面霜"  # the first line's name without itemNameFlag
    assert (g.gross_weight, g.net_weight) == (Decimal("3.75"), Decimal("3.55"))


def test_item_name_flag_splits_by_gname() -> None:
    g = group([("E1", A), ("E2", B)], by_item_name=True, by_owner=False)
    assert [(x.gname, x.qty, x.totalPrice) for x in g.lines] == [
        ("保湿面霜", Decimal("4"), Decimal("0.40004")),
        ("保湿乳液", Decimal("2"), Decimal("0.20002")),
        ("运动鞋", Decimal("1"), Decimal("899")),
    ]


def test_summary_flag_2_splits_by_the_inventory_owner() -> None:
    g = group([("E1", A), ("E2", B)], by_item_name=False, by_owner=True)
    assert [(x.ownerCode, x.gcode, x.qty) for x in g.lines] == [
        ("OWNER1", "3304990099", Decimal("3")),
        ("OWNER2", "3304990099", Decimal("3")),
        ("OWNER2", "6404199000", Decimal("1")),
    ]
    assert all(
        x.ownerCode is None for x in group([("E1", A)], by_item_name=False, by_owner=False).lines
    )


def test_country_currency_and_unit_each_split_a_gcode() -> None:
    lines = [
        line(1, "3304990099", "霜", "1", "1"),
        line(2, "3304990099", "霜", "1", "1", country="303"),
        line(3, "3304990099", "霜", "1", "1", currency="502"),
        line(4, "3304990099", "霜", "1", "1", unit="035"),
        line(5, "3304990099", "霜", "1", "1"),
    ]
    g = group([("E1", inventory("O", *lines))], by_item_name=False, by_owner=False)
    assert [x.qty for x in g.lines] == [Decimal(2), Decimal(1), Decimal(1), Decimal(1)]
    assert [i.gseqno for i in g.items] == [1, 2, 3, 4, 1]


def test_sums_are_exact_where_floats_are_not() -> None:
    many = [line(n, "3304990099", "霜", "0.1", "0.00001") for n in range(1, 101)]
    g = group([("E1", inventory("O", *many))], by_item_name=False, by_owner=False)
    (only,) = g.lines
    assert only.qty == Decimal("10.0") and only.totalPrice == Decimal("0.00100")
    assert str(only.totalPrice) == "0.00100"


def test_a_short_gcode_is_completed_to_ten_digits() -> None:
    assert ten_digit("33049900") == "3304990000"
    assert ten_digit("3304990099") == "3304990099"
    g = group(
        [
            (
                "E1",
                inventory(
                    "O", line(1, "33049900", "霜", "1", "1"), line(2, "3304990000", "霜", "1", "1")
                ),
            )
        ],
        by_item_name=False,
        by_owner=False,
    )
    assert [(x.gcode, x.qty) for x in g.lines] == [("3304990000", Decimal(2))]


def test_the_line_country_and_currency_fall_back_to_the_head() -> None:
    bare = InventoryLine(
        gnum=1, gcode="3304990099", gname="霜", unit="011", qty=Decimal(1), totalPrice=Decimal(1)
    )
    (only,) = group([("E1", inventory("O", bare))], by_item_name=False, by_owner=False).lines
    assert (only.country, only.currency) == ("502", "142")


def test_sum_no_has_the_invt_no_form_with_s() -> None:
    # 2026-12-31 20:00 UTC is already 2027 in Beijing
    number = sum_no_for("2924", datetime(2026, 12, 31, 20, 0, tzinfo=UTC), 42)
    assert number == "29242027S000000042" and is_sum_no(number)
    assert sum_no_for("29A4", datetime(2026, 1, 1, tzinfo=UTC), 7) == "00002026S000000007"
    assert not is_sum_no("29242026E000000042")
