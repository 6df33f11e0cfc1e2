"""Cancels and returns (SPEC §10) on a real pipeline: each rule with its code, the effects on
the bundle, the manifest and the annual ledger, and that a refused document changes nothing."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from service.demo.consignments import Consignment, clean_import
from service.demo.exports import clean_export
from service.engine import review
from service.engine.ingest import IngestResult
from service.errors import ActionNotAllowed
from service.messages.registry import BUNDLE_KINDS, Kind
from service.store import bundles, ledger
from service.store.tables import documents
from tests.engine.conftest import OPERATOR, Pipeline, PipelineFactory
from tests.messages.builders import cancel_for, refund_for, serialize

WHEN = datetime(2026, 3, 2, 9, 30, 0)


def consignment(number: int) -> Consignment:
    return clean_import(random.Random(number), number, when=WHEN)


async def play(p: Pipeline, c: Consignment, kinds: tuple[Kind, ...] = BUNDLE_KINDS) -> str | None:
    """Send ``kinds`` of ``c``; the invtNo its inventory was given (None without one)."""
    invt_no = None
    for kind in kinds:
        result = await p.post(c.message(kind), kind)
        (document,) = result.documents
        assert document.outcome.status == "accepted", document.outcome
        invt_no = document.outcome.invt_no or invt_no
    return invt_no


async def send(p: Pipeline, body: bytes) -> dict[str, Any]:
    """A lifecycle message, sent by the declaration agent (the inventory's sender)."""
    result: IngestResult = await p.post(body, Kind.INVENTORY)
    (document,) = result.to_json()["documents"]
    return dict(document)


async def row(p: Pipeline, key: tuple[str, str]) -> dict[str, Any]:
    async with p.db.read() as conn:
        found = await bundles.get_by_key(conn, *key)
    assert found is not None
    return found


async def year_total(p: Pipeline, buyer: str) -> Decimal:
    async with p.db.read() as conn:
        return await ledger.year_total(conn, buyer, 2026)


def refused(answer: dict[str, Any], code: str) -> None:
    assert answer["status"] == "rejected", answer
    assert answer["returnStatus"] == "100"
    assert [e["code"] for e in answer["errors"]] == [code], answer


def cancel(c: Consignment, invt_no: str, **overrides: str) -> bytes:
    return serialize(cancel_for(c, invt_no=invt_no, signed=True, **overrides))


def refund(c: Consignment, invt_no: str, returned: dict[int, Decimal] | None = None) -> bytes:
    return serialize(refund_for(c, returned, invt_no=invt_no, signed=True))


async def test_a_cancel_of_a_released_import_gives_the_value_back_and_tells_the_warehouse(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = consignment(1)
        invt_no = await play(p, c)
        assert invt_no is not None
        before = await row(p, c.key)
        assert before["state"] == "released" and before["invt_no"] == invt_no
        buyer, counted = str(before["ledger_buyer"]), before["ledger_amount"]
        assert counted > 0 and await year_total(p, buyer) == counted

        answer = await send(p, cancel(c, invt_no))
        assert (answer["status"], answer["returnStatus"]) == ("accepted", "120")
        assert answer["key"]["invtNo"] == invt_no
        after = await row(p, c.key)
        assert after["state"] == "cancelled" and after["cancelled_at"] is not None
        assert after["version"] == before["version"] + 1
        assert await year_total(p, buyer) == 0
        entries = await p.entries(c.key)
        assert [e["decision"] for e in entries] == ["release", "cancel"]
        assert (
            entries[-1]["invt_no"] == invt_no and entries[-1]["bundle_version"] == after["version"]
        )
        bundle = await p.bundle(c.key)
        assert bundle is not None
        assert [h["event"] for h in bundle["history"]][-2:] == ["lifecycle", "decision"]


async def test_a_cancelled_consignment_takes_nothing_more(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(2)
        invt_no = await play(p, c, (Kind.INVENTORY,))  # accepted, still pending
        assert invt_no is not None
        assert (await send(p, cancel(c, invt_no)))["status"] == "accepted"
        assert (await row(p, c.key))["state"] == "cancelled"
        version = (await row(p, c.key))["version"]
        # the order that would have completed it, another cancel, a return
        (late,) = (await p.post(c.message(Kind.ORDER), Kind.ORDER)).to_json()["documents"]
        refused(late, "BUNDLE_CANCELLED")
        refused(await send(p, cancel(c, invt_no)), "BUNDLE_CANCELLED")
        refused(await send(p, refund(c, invt_no)), "BUNDLE_CANCELLED")
        assert (await row(p, c.key))["version"] == version
        assert [e["decision"] for e in await p.entries(c.key)] == ["cancel"]


async def test_unknown_and_mismatched_consignments_are_refused(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(3)
        invt_no = await play(p, c)
        assert invt_no is not None
        refused(await send(p, cancel(c, "3700" + "2026I" + "999999999")), "LIFECYCLE_UNKNOWN")
        for field, value in (("orderNo", "OTHER-ORDER-1"), ("ebcCode", "9999999999")):
            refused(await send(p, cancel(c, invt_no, **{field: value})), "LIFECYCLE_KEY_MISMATCH")
        assert (await row(p, c.key))["state"] == "released"
        assert [e["decision"] for e in await p.entries(c.key)] == ["release"]


async def test_returns_in_part_then_in_full(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(4)
        invt_no = await play(p, c)
        assert invt_no is not None
        lines = c.inventory_lines
        first = int(lines[0]["gnum"])
        qty = Decimal(str(lines[0]["qty"]))
        price = Decimal(str(lines[0]["price"]))
        buyer = str((await row(p, c.key))["ledger_buyer"])
        counted = await year_total(p, buyer)

        answer = await send(p, refund(c, invt_no, {first: qty}))
        assert answer["status"] == "accepted", answer
        bundle = await p.bundle(c.key)
        assert bundle is not None
        assert bundle["state"] == ("returned" if len(lines) == 1 else "released")
        (returned,) = bundle["returns"]
        assert returned["invtNo"] == invt_no
        assert Decimal(returned["value"]) == qty * price
        assert returned["lines"] == [{"gnum": first, "qty": str(qty), "value": str(qty * price)}]
        assert await year_total(p, buyer) == counted - qty * price
        # the same line again is more than was released; a line the inventory lacks
        refused(await send(p, refund(c, invt_no, {first: Decimal(1)})), "RETURN_EXCEEDS")
        refused(await send(p, refund(c, invt_no, {999: Decimal(1)})), "RETURN_EXCEEDS")
        # returned in part: too late to cancel
        if len(lines) > 1:
            refused(await send(p, cancel(c, invt_no)), "CANCEL_TOO_LATE")
            rest = {int(line["gnum"]): Decimal(str(line["qty"])) for line in lines[1:]}
            assert (await send(p, refund(c, invt_no, rest)))["status"] == "accepted"
        final = await row(p, c.key)
        assert final["state"] == "returned"
        decisions = [e["decision"] for e in await p.entries(c.key)]
        assert decisions[0] == "release" and set(decisions[1:]) == {"return"}


async def test_a_return_needs_a_release(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(5)
        invt_no = await play(p, c, (Kind.INVENTORY,))
        assert invt_no is not None
        refused(await send(p, refund(c, invt_no)), "RETURN_NOT_RELEASED")
        async with p.db.read() as conn:
            assert (await bundles.get_by_key(conn, *c.key))["state"] == "pending"  # type: ignore[index]


async def test_windows_refuse_late_returns_and_cancels(pipelines: PipelineFactory) -> None:
    # windows of a tenth of a second: the clock is the batcher's, real time
    window = 0.1 / 86_400
    async with pipelines(return_window_days=window, cancel_window_days=window) as p:
        c = consignment(6)
        invt_no = await play(p, c)
        assert invt_no is not None
        await asyncio.sleep(0.3)
        refused(await send(p, refund(c, invt_no)), "RETURN_TOO_LATE")
        refused(await send(p, cancel(c, invt_no)), "CANCEL_TOO_LATE")
        assert (await row(p, c.key))["state"] == "released"


async def test_an_export_consignment_is_cancelled_and_returned(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        returned = clean_export(random.Random(7), 7, regime="9610")
        invt_no = await play(p, returned)
        assert invt_no is not None and invt_no[8] == "E"
        assert (await row(p, returned.key))["state"] == "released"
        assert (await send(p, refund(returned, invt_no)))["status"] == "accepted"
        assert (await row(p, returned.key))["state"] == "returned"

        cancelled = clean_export(random.Random(8), 8, regime="9610")
        invt_no = await play(p, cancelled)
        assert invt_no is not None
        assert (await send(p, cancel(cancelled, invt_no)))["status"] == "accepted"
        assert (await row(p, cancelled.key))["state"] == "cancelled"
        assert [e["decision"] for e in await p.entries(cancelled.key)] == ["release", "cancel"]


async def test_a_cancel_and_documents_in_one_batch(pipelines: PipelineFactory) -> None:
    """A cancel judged in the same transaction as the documents that complete the bundle:
    the bundle ends cancelled and is not released after it."""
    async with pipelines(intake_batch_interval_ms=200) as p:
        c = consignment(9)
        invt_no = await play(p, c, (Kind.INVENTORY,))
        assert invt_no is not None
        sends = [
            p.post(c.message(kind), kind) for kind in BUNDLE_KINDS if kind is not Kind.INVENTORY
        ]
        await asyncio.gather(*sends, send(p, cancel(c, invt_no)))
        assert (await row(p, c.key))["state"] == "cancelled"
        assert [e["decision"] for e in await p.entries(c.key)][-1] == "cancel"


async def test_a_return_qty_must_be_positive(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(10)
        invt_no = await play(p, c)
        assert invt_no is not None
        first = int(c.inventory_lines[0]["gnum"])
        for qty in (Decimal(-5), Decimal(0)):
            refused(await send(p, refund(c, invt_no, {first: qty})), "RETURN_EXCEEDS")
        bundle = await p.bundle(c.key)
        assert bundle is not None and bundle["returns"] == [] and bundle["state"] == "released"


async def test_a_cancel_or_return_cannot_be_changed_or_deleted(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(11)
        invt_no = await play(p, c)
        assert invt_no is not None
        for app_type in ("2", "3"):
            body = serialize(refund_for(c, invt_no=invt_no, signed=True, appType=app_type))
            refused(await send(p, body), "ALREADY_DECIDED")
            body = serialize(cancel_for(c, invt_no=invt_no, signed=True, appType=app_type))
            refused(await send(p, body), "ALREADY_DECIDED")
        assert (await row(p, c.key))["state"] == "released"
        assert [e["decision"] for e in await p.entries(c.key)] == ["release"]


async def test_an_export_returned_in_part_may_still_be_cancelled_before_departure(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = clean_export(random.Random(12), 12, regime="9610")
        invt_no = await play(p, c)
        assert invt_no is not None
        line = c.inventory_lines[0]
        part = {int(line["gnum"]): Decimal(str(line["qty"])) / 2}
        assert (await send(p, refund(c, invt_no, part)))["status"] == "accepted"
        assert (await send(p, cancel(c, invt_no)))["status"] == "accepted"
        assert (await row(p, c.key))["state"] == "cancelled"


async def test_operators_cannot_undo_a_release_returned_in_part(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = consignment(13)
        invt_no = await play(p, c)
        assert invt_no is not None
        line = c.inventory_lines[0]
        part = {int(line["gnum"]): Decimal(str(line["qty"])) / 2}
        assert (await send(p, refund(c, invt_no, part)))["status"] == "accepted"
        bundle = await row(p, c.key)
        for action in ("reject", "reopen"):
            async with p.db.write() as conn:
                with pytest.raises(ActionNotAllowed):
                    await review.act(
                        conn, *c.key, action, "no", bundle["version"], OPERATOR, datetime.now(UTC)
                    )
        assert (await row(p, c.key))["state"] == "released"


async def test_a_replayed_inventory_is_answered_with_its_invt_no(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = consignment(14)
        invt_no = await play(p, c, (Kind.INVENTORY,))
        (again,) = (await p.post(c.message(Kind.INVENTORY), Kind.INVENTORY)).documents
        assert (again.outcome.status, again.outcome.invt_no) == ("duplicate", invt_no)


async def test_a_reason_that_looks_like_personal_data_is_masked_at_rest(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = consignment(15)
        invt_no = await play(p, c)
        assert invt_no is not None
        body = cancel(c, invt_no, reason="买家 13812345678 要求撤单")
        assert (await send(p, body))["status"] == "accepted"
        async with p.db.read() as conn:
            stored = (
                await conn.execute(
                    select(documents.c.data, documents.c.raw_xml).where(
                        documents.c.kind == "cancel"
                    )
                )
            ).one()
        assert "13812345678" not in str(stored.data) and "13812345678" not in stored.raw_xml
        assert "138****5678" in stored.raw_xml
