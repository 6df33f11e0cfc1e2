"""Issuing the receipts feed (SPEC §10 "Decision receipts") on a real pipeline and database:
intake receipts in the batch that stores (or refuses) each document, decision receipts for
the inventory's sender with the engine's and the operators' decisions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select

from service.demo.compose import new_guid
from service.demo.consignments import Consignment, clean_import, message_of
from service.demo.exports import clean_export
from service.demo.mistakes import with_mistake
from service.engine import review
from service.messages.registry import BUNDLE_KINDS, CEB_NS, MESSAGE_TYPES, Direction, Kind
from service.queue.receipts import receipt_message
from service.store import bundles
from service.store import receipts as feed_store
from service.store.tables import documents
from tests.engine.conftest import CALLERS, OPERATOR, Pipeline, PipelineFactory
from tests.messages.builders import cancel_for, refund_for, serialize

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
LATER = datetime.now(UTC) + timedelta(days=30)  # past every deadline
PLATFORM, AGENT = CALLERS[Kind.ORDER].code, CALLERS[Kind.INVENTORY].code


def consignment(number: int, mistake: str | None = None) -> Consignment:
    c = clean_import(random.Random(number), 900 + number)
    return with_mistake(c, mistake) if mistake else c


async def feed(p: Pipeline, after: int = 0) -> list[dict[str, Any]]:
    """Every receipt issued, in seq order, whoever it is for."""
    async with p.db.read() as conn:
        return await feed_store.read_after(conn, after, 1_000_000, None)


async def count(p: Pipeline, table: Any) -> int:
    async with p.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def send(p: Pipeline, c: Consignment, kinds: list[Kind] | None = None) -> None:
    for kind in kinds or list(BUNDLE_KINDS):
        result = await p.post(c.message(kind), kind)
        assert [d.outcome.status for d in result.documents] == ["accepted"], result


async def bundle(p: Pipeline, c: Consignment) -> dict[str, Any]:
    async with p.db.read() as conn:
        found = await bundles.get_by_key(conn, *c.key)
    assert found is not None
    return found


def short(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(r["recipient"], r["message_type"], r["guid"], r["return_status"]) for r in rows]


def assert_valid(rows: list[dict[str, Any]]) -> None:
    """Each receipt renders as one CEB message valid against our schemas."""
    schemas = {
        side: etree.XMLSchema(etree.parse(str(SCHEMAS / f"{side}.xsd")))
        for side in ("import", "export")
    }
    for row in rows:
        root = etree.fromstring(receipt_message(row))
        side = "export" if row["message_type"] in EXPORT_RECEIPTS else "import"
        schemas[side].assertValid(root)
        assert root.tag == f"{{{CEB_NS}}}{row['message_type']}"
        [item] = list(root)
        assert item.findtext(f"{{{CEB_NS}}}guid") == row["guid"]
        assert item.findtext(f"{{{CEB_NS}}}returnStatus") == row["return_status"]
        assert item.findtext(f"{{{CEB_NS}}}returnInfo") == row["return_info"]


EXPORT_RECEIPTS = {
    t.receipt_root for t in MESSAGE_TYPES.values() if t.direction is Direction.EXPORT
}


async def test_each_document_with_an_outcome_gets_its_intake_receipt(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        good, bad, other = consignment(1), consignment(2), consignment(3)
        body = message_of([good, bad, other], Kind.ORDER)
        # a schema error in the middle document: refused before the batch, the others go on
        body = body.replace(
            f"<ceb:orderNo>{bad.order['orderNo']}</ceb:orderNo>".encode(),
            f"<ceb:orderNo>{'X' * 61}</ceb:orderNo>".encode(),
        )
        result = await p.post(body, Kind.ORDER)
        assert [d.outcome.return_status for d in result.documents] == ["120", "-1", "120"]
        issued = await feed(p)
        assert short(issued) == [
            (PLATFORM, "CEB312Message", good.order["guid"], "120"),
            (PLATFORM, "CEB312Message", bad.order["guid"], "-1"),
            (PLATFORM, "CEB312Message", other.order["guid"], "120"),
        ]
        assert [r["seq"] for r in issued] == [1, 2, 3]
        assert issued[0]["return_info"] == "入库成功 accepted"
        assert issued[1]["return_info"].startswith("SCHEMA_INVALID /CEB311Message/Order[2]")
        assert issued[0]["fields"] == {
            "ebpCode": good.order["ebpCode"],
            "ebcCode": good.order["ebcCode"],
            "orderNo": good.order["orderNo"],
        }
        assert issued[1]["fields"]["orderNo"] == "X" * 61  # as sent; the XML cuts it to 60
        assert await count(p, documents) == 2  # the refused document is not stored

        # A replay adds nothing for what was accepted; the refused one is refused again.
        again = await p.post(body, Kind.ORDER)
        assert [d.outcome.status for d in again.documents] == ["duplicate", "rejected", "duplicate"]
        assert short(await feed(p, after=3)) == [
            (PLATFORM, "CEB312Message", bad.order["guid"], "-1")
        ]
        assert_valid(await feed(p))


async def test_a_message_refused_in_every_document_still_issues_its_receipts(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c, d = consignment(4), consignment(5)
        # copCode names an enterprise the key does not act for: every document refused
        body = message_of([c, d], Kind.ORDER, cop_code="9999999999")
        result = await p.post(body, Kind.ORDER)
        assert [e["code"] for doc in result.documents for e in doc.outcome.errors] == [
            "SENDER_MISMATCH",
            "SENDER_MISMATCH",
        ]
        issued = await feed(p)
        assert short(issued) == [
            (PLATFORM, "CEB312Message", c.order["guid"], "100"),
            (PLATFORM, "CEB312Message", d.order["guid"], "100"),
        ]
        assert "SENDER_MISMATCH" in issued[0]["return_info"]
        assert await count(p, documents) == 0
        assert_valid(issued)


async def test_a_release_tells_the_inventory_sender_800(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(6)
        await send(p, c)
        row = await bundle(p, c)
        assert row["state"] == "released"
        issued = await feed(p)
        assert short(issued) == [
            (PLATFORM, "CEB312Message", c.order["guid"], "120"),
            (CALLERS[Kind.PAYMENT].code, "CEB412Message", c.payment["guid"], "120"),
            (CALLERS[Kind.LOGISTICS].code, "CEB512Message", c.logistics["guid"], "120"),
            (AGENT, "CEB622Message", c.inventory["guid"], "120"),
            (AGENT, "CEB622Message", c.inventory["guid"], "800"),
        ]
        decision = issued[-1]
        assert decision["return_info"] == "放行 released"
        assert row["invt_no"] is not None
        assert (decision["bundle_id"], decision["invt_no"]) == (row["id"], row["invt_no"])
        # the inventory's intake receipt names the invtNo it was given; the others none
        assert [r["invt_no"] for r in issued] == [None, None, None, row["invt_no"], row["invt_no"]]
        inventory = c.inventory
        assert decision["fields"] == {
            "customsCode": inventory["customsCode"],
            "ebpCode": inventory["ebpCode"],
            "ebcCode": inventory["ebcCode"],
            "agentCode": inventory["agentCode"],
            "copNo": inventory["copNo"],
            "orderNo": inventory["orderNo"],
        } | ({"preNo": inventory["preNo"]} if inventory.get("preNo") else {})
        assert [r["seq"] for r in issued] == list(range(1, 6))
        assert_valid(issued)


async def test_an_exception_names_its_rules_and_a_fix_releases(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = consignment(7, "PAYMENT_AMOUNT")
        await send(p, c)
        row = await bundle(p, c)
        assert row["state"] == "exception"
        rules = [f["code"] for f in row["findings"]]
        assert "PAYMENT_AMOUNT" in rules
        [decision] = [r for r in await feed(p) if r["return_status"] != "120"]
        assert (decision["recipient"], decision["message_type"]) == (AGENT, "CEB622Message")
        assert (decision["guid"], decision["return_status"]) == (c.inventory["guid"], "100")
        assert decision["return_info"] == f"海关退单: {', '.join(rules)}"

        fixed = c.copy()  # a newer version of the payment, without the mistake
        fixed.payment.update(guid=new_guid(), appType="2", appTime="20261111000100")
        fixed.payment["amountPaid"] += Decimal("0.01")
        seq = max(r["seq"] for r in await feed(p))
        await send(p, fixed, [Kind.PAYMENT])
        assert [(r["recipient"], r["return_status"]) for r in await feed(p, after=seq)] == [
            (CALLERS[Kind.PAYMENT].code, "120"),
            (AGENT, "800"),
        ]
        assert_valid(await feed(p))


async def test_no_decision_receipt_without_an_inventory(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        lacking_inventory, lacking_payment = consignment(8), consignment(9)
        await send(p, lacking_inventory, [Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS])
        await send(p, lacking_payment, [Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY])
        seq = max(r["seq"] for r in await feed(p))
        decided = await p.sweep(LATER)
        assert {d.decision for d in decided} == {"exception"} and len(decided) == 2
        [receipt] = await feed(p, after=seq)
        assert (receipt["recipient"], receipt["guid"], receipt["return_status"]) == (
            AGENT,
            lacking_payment.inventory["guid"],
            "100",
        )
        assert receipt["return_info"] == "海关退单: MISSING_PAYMENT"


async def test_operator_decisions_issue_receipts_and_reopen_none(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = consignment(10, "PAYMENT_AMOUNT")
        await send(p, c)
        rules = ", ".join(f["code"] for f in (await bundle(p, c))["findings"])
        seq = max(r["seq"] for r in await feed(p))

        async def act(action: str) -> None:
            version = (await bundle(p, c))["version"]
            async with p.db.write() as conn:
                await review.act(conn, *c.key, action, "checked", version, OPERATOR, LATER)

        await act("release")
        await act("reject")
        await act("reopen")
        issued = await feed(p, after=seq)
        assert [
            (r["recipient"], r["guid"], r["return_status"], r["return_info"]) for r in issued
        ] == [
            (AGENT, c.inventory["guid"], "800", f"放行 released (人工审核 operator): {rules}"),
            (AGENT, c.inventory["guid"], "100", f"海关退单 (人工审核 operator): {rules}"),
        ]
        assert [r["seq"] for r in issued] == [seq + 1, seq + 2]
        assert_valid(issued)


async def test_export_receipts_are_ceb604_and_valid(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        c = clean_export(random.Random(11), 911)
        await send(p, c)
        issued = await feed(p)
        assert [r["message_type"] for r in issued] == [
            "CEB304Message",
            "CEB404Message",
            "CEB506Message",
            "CEB604Message",
            "CEB604Message",
        ]
        assert issued[-1]["return_status"] == "800"
        assert_valid(issued)


def test_an_assigned_invt_no_is_in_the_rendered_receipt() -> None:
    row = {
        "seq": 7,
        "message_type": "CEB622Message",
        "guid": "4CDE1CFD-EDED-46B1-946C-B8022E42FC94",
        "invt_no": "29242026I000000007",
        "return_status": "800",
        "return_time": "20261111080000123",
        "return_info": "放行 released",
        "fields": {"copNo": "C1", "invtNo": "stale"},
    }
    first, again = receipt_message(row), receipt_message(row)
    assert first == again  # the same message, guid included, at every read
    root = etree.fromstring(first)
    assert root.findtext(f"{{{CEB_NS}}}InventoryReturn/{{{CEB_NS}}}invtNo") == row["invt_no"]
    assert_valid([row])


async def test_a_cancel_and_a_return_say_120_then_399(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        returned, cancelled = consignment(12), consignment(13)
        await send(p, returned)
        await send(p, cancelled)
        invt_nos = [(await bundle(p, c))["invt_no"] for c in (returned, cancelled)]
        seq = max(r["seq"] for r in await feed(p))
        refund = refund_for(returned, invt_no=invt_nos[0], signed=True)
        cancel = cancel_for(cancelled, invt_no=invt_nos[1], signed=True)
        for body in (serialize(refund), serialize(cancel)):
            result = await p.post(body, Kind.INVENTORY)  # the declaration agent sends them
            assert [d.outcome.status for d in result.documents] == ["accepted"], result
        # a second cancel of the cancelled consignment is refused: its receipt alone
        again = cancel_for(cancelled, invt_no=invt_nos[1], signed=True)
        result = await p.post(serialize(again), Kind.INVENTORY)
        assert [d.outcome.return_status for d in result.documents] == ["100"]

        issued = await feed(p, after=seq)
        guids = [element_guid(refund), element_guid(cancel), element_guid(again)]
        assert short(issued) == [
            (AGENT, "CEB626Message", guids[0], "120"),
            (AGENT, "CEB626Message", guids[0], "399"),
            (AGENT, "CEB624Message", guids[1], "120"),
            (AGENT, "CEB624Message", guids[1], "399"),
            (AGENT, "CEB624Message", guids[2], "100"),
        ]
        assert [r["invt_no"] for r in issued[:4]] == [invt_nos[0]] * 2 + [invt_nos[1]] * 2
        assert issued[1]["return_info"] == "海关审结 applied"
        assert "BUNDLE_CANCELLED" in issued[4]["return_info"]
        assert_valid(issued)


def element_guid(message: etree._Element) -> str:
    """The guid of the one document of a built message."""
    return str(next(message.iter(f"{{{CEB_NS}}}guid")).text)
