"""The receipts feed's storage (store/receipts.py): receipts issued together to one recipient
are one row, and every reader still sees one receipt per seq — by cursor from inside a run,
cut by the limit inside a run, filtered by recipient, and through the ``receipts`` view."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from service.store import receipts
from service.store.database import Database
from service.store.tables import receipt_runs
from tests.databases import afresh_database

NOW = datetime(2026, 11, 11, tzinfo=UTC)


def receipt(recipient: str, guid: str, status: str = "120") -> dict[str, Any]:
    return {
        "recipient": recipient,
        "message_type": "CEB312Message",
        "guid": guid,
        "invt_no": None,
        "bundle_id": None,
        "return_status": status,
        "return_time": "20261111000000000",
        "return_info": "入库成功 accepted",
        "fields": {"orderNo": guid.lower()},
        "created_at": NOW,
    }


async def test_receipts_issued_together_are_runs_read_one_by_one(tmp_path: Path) -> None:
    async with afresh_database(tmp_path) as url:
        db = Database(url)
        # one message of four documents from A, then two decision receipts (B, then A)
        first = [receipt("A", f"G{i}") for i in range(4)]
        first += [receipt("B", "G9", "800"), receipt("A", "G8", "800")]
        async with db.write() as conn:
            assert await receipts.issue_many(conn, first) == [1, 2, 3, 4, 5, 6]
        async with db.write() as conn:
            assert await receipts.issue_many(conn, [receipt("A", "H0")]) == [7]
        async with db.read() as conn:
            runs = (await conn.execute(select(func.count()).select_from(receipt_runs))).scalar()
            assert runs == 4  # A×4, B, A, A
            everything = await receipts.read_after(conn, 0, 100, None)
            assert [r["seq"] for r in everything] == [1, 2, 3, 4, 5, 6, 7]
            assert [r["guid"] for r in everything] == ["G0", "G1", "G2", "G3", "G9", "G8", "H0"]
            assert everything[0]["fields"] == {"orderNo": "g0"}
            assert everything[0]["created_at"].replace(tzinfo=UTC) == NOW

            to_a = await receipts.read_after(conn, 0, 100, ["A"])
            assert [r["seq"] for r in to_a] == [1, 2, 3, 4, 6, 7]

            # a cursor inside a run, and a limit inside one
            async def seqs(after: int, limit: int) -> list[int]:
                return [r["seq"] for r in await receipts.read_after(conn, after, limit, ["A"])]

            assert await seqs(2, 100) == [3, 4, 6, 7]
            assert await seqs(1, 2) == [2, 3]
            assert await seqs(4, 1) == [6]
            assert await receipts.read_after(conn, 7, 100, ["A"]) == []
            assert await receipts.read_after(conn, 0, 100, ["C"]) == []
            assert await receipts.max_seq(conn) == 7

            # the view for SQL readers: one row per receipt, the seqs the feed gives
            viewed = (
                await conn.execute(
                    text("SELECT seq, recipient, guid, return_status FROM receipts ORDER BY seq")
                )
            ).all()
            assert [tuple(r) for r in viewed] == [
                (r["seq"], r["recipient"], r["guid"], r["return_status"]) for r in everything
            ]
        await db.dispose()
