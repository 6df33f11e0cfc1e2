"""The CSV's cells and Beijing days, without a server: quoting, formulas kept inert, personal
data masked, and where a Beijing calendar day begins in UTC."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from service.clock import beijing, beijing_day_start, beijing_today
from service.engine.review_export import COLUMNS, _lines, csv_row

NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def bundle_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ebp_code": "3301960001",
        "order_no": "SD2026111100000001",
        "inv_logistics_no": "YT2611110000000001",
        "direction": "I",
        "regime_declared": "9610",
        "regime_classified": "9610",
        "state": "exception",
        "invt_no": None,
        "version": 4,
        "findings": [
            {"code": "PAYMENT_AMOUNT", "severity": "error"},
            {"code": "TAX_TOTAL", "severity": "warning"},
        ],
        "missing": [],
        "first_seen_at": datetime(2026, 12, 3, 16, 30, tzinfo=UTC),
        "decided_at": None,
    }
    return {**row, **changes}


def parsed(rows: list[list[str]]) -> list[dict[str, str]]:
    text = _lines([list(COLUMNS), *rows])
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_a_row_of_the_csv() -> None:
    (row,) = parsed([csv_row(bundle_row(), NOW)])
    assert row["orderNo"] == "SD2026111100000001" and row["regime"] == "I9610"
    assert (row["errors"], row["warnings"]) == ("PAYMENT_AMOUNT", "TAX_TOTAL")
    assert row["firstSeenAt"] == "2026-12-03T16:30:00Z"
    assert row["firstSeenAtBeijing"] == "2026-12-04 00:30:00"  # past Beijing midnight
    assert row["decidedAt"] == "" and row["ageSeconds"] == "1800"


def test_quotes_commas_and_line_breaks_survive_the_round_trip() -> None:
    awkward = 'SD"1", 2\nnext'
    (row,) = parsed([csv_row(bundle_row(order_no=awkward), NOW)])
    assert row["orderNo"] == awkward
    assert '"SD""1"", 2\nnext"' in _lines([csv_row(bundle_row(order_no=awkward), NOW)])


def test_a_cell_that_would_be_a_formula_is_written_inert() -> None:
    for value in ('=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)"):
        (row,) = parsed([csv_row(bundle_row(order_no=value), NOW)])
        assert row["orderNo"] == "'" + value


def test_personal_data_is_masked_in_cells() -> None:
    (row,) = parsed([csv_row(bundle_row(order_no="SD 110101199003074518"), NOW)])
    assert "110101199003074518" not in row["orderNo"]


def test_beijing_days_and_times() -> None:
    assert beijing_day_start(date(2026, 12, 4)) == datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert beijing("2026-12-03T15:59:59Z") == "2026-12-03 23:59:59"
    assert beijing(datetime(2026, 12, 3, 16, 0)) == "2026-12-04 00:00:00"  # naive means UTC
    assert beijing(None) == "" and beijing("") == ""
    assert beijing_today(NOW) == date(2026, 12, 4)
