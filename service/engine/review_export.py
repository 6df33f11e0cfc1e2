"""The exception queue as CSV (``GET /v1/review/exceptions.csv`` and the queue page's button):
the rows the queue's filters select, in the queue's order, every one of them, not a page.

Read a chunk at a time (``store.review.queue_chunk``, keyset on first_seen_at and id), each
chunk in a read of its own, so a big queue is never held in memory and no connection waits on
a slow download. Chunks are consistent each; a bundle that changes between two chunks is
listed as one of them found it.

The file is UTF-8 with a byte order mark, which Excel needs to read Chinese text as UTF-8
(``utf-8-sig`` in Python), CRLF line ends and RFC 4180 quoting (the csv module's ``excel``
dialect). A cell that starts as a spreadsheet formula would (``=``, ``+``, ``-``, ``@``, tab,
carriage return) is written after an apostrophe, so opening the file runs nothing a sender put
in an order number. The rows hold numbers, codes and times only, no personal data; the text
passes ``scrub`` once more like every answer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from service.clock import as_utc, beijing, utcnow
from service.engine.review_view import queue_item
from service.security.masking import scrub
from service.store import review as review_store
from service.store.database import Database
from service.store.review import QueueFilter

CHUNK = 500
BOM = "\ufeff"
COLUMNS = (
    "ebpCode",
    "orderNo",
    "logisticsNo",
    "invtNo",
    "regime",
    "state",
    "version",
    "errors",
    "warnings",
    "missing",
    "firstSeenAt",
    "firstSeenAtBeijing",
    "decidedAt",
    "decidedAtBeijing",
    "ageSeconds",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else scrub(str(value))
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_row(row: dict[str, Any], now: datetime) -> list[str]:
    """One bundle of the queue as the CSV's cells, in ``COLUMNS`` order."""
    item = queue_item(row, now)
    findings = row["findings"] or ()
    values = {
        **item,
        "regime": (item["direction"] or "") + (item["regime"] or ""),
        "errors": " ".join(f["code"] for f in findings if f.get("severity") == "error"),
        "warnings": " ".join(f["code"] for f in findings if f.get("severity") == "warning"),
        "missing": " ".join(item["missing"] or ()),
        "firstSeenAtBeijing": beijing(item["firstSeenAt"]),
        "decidedAtBeijing": beijing(item["decidedAt"]),
    }
    return [_cell(values[name]) for name in COLUMNS]


def _lines(rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, dialect="excel").writerows(rows)
    return out.getvalue()


async def queue_csv(db: Database, f: QueueFilter, chunk: int = CHUNK) -> AsyncIterator[str]:
    """The CSV text of every bundle ``f`` selects, the header first, a chunk at a time."""
    now = utcnow()
    yield BOM + _lines([list(COLUMNS)])
    after: tuple[datetime, int] | None = None
    while True:
        async with db.read() as conn:
            rows = await review_store.queue_chunk(conn, f, after, chunk)
        if not rows:
            return
        yield _lines(csv_row(r, now) for r in rows)
        if len(rows) < chunk:
            return
        last = rows[-1]
        after = (as_utc(last["first_seen_at"]), int(last["id"]))
