"""Arrivals, master bills and departures (SPEC §10) on a real pipeline: which consignments a
document names, each code, the effects on the bundle, the manifest and the receipts feed, and
that the order the documents come in does not change the end."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from service.config import DEFAULT_REQUIRED_SETS
from service.demo.consignments import DEMO_PARTIES, Consignment, clean_import
from service.demo.exports import clean_export
from service.demo.movement import arrival_message, departure_message, master_bill_message
from service.messages.registry import BUNDLE_KINDS, Kind, Role
from service.security.keys import Caller
from service.store import bundles, receipts
from service.store.tables import waybill_arrivals
from tests.engine.conftest import Pipeline, PipelineFactory

P = DEMO_PARTIES
WHEN = datetime(2026, 3, 2, 9, 30, 0)
SITE = (P.carrier.code, P.carrier.name)
AGENT = (P.agent.code, P.agent.name)
WAREHOUSE = Caller(7, P.carrier.code, frozenset({P.carrier.code}), frozenset({Role.WAREHOUSE}))
CARRIER = Caller(3, P.carrier.code, frozenset({P.carrier.code}), frozenset({Role.LOGISTICS}))
DECLARER = Caller(4, P.agent.code, frozenset({P.agent.code}), frozenset({Role.AGENT}))


def export(number: int) -> Consignment:
    return clean_export(random.Random(number), number, regime="9610", when=WHEN)


async def play(p: Pipeline, c: Consignment, kinds: tuple[Kind, ...] = BUNDLE_KINDS) -> str:
    invt_no = ""
    for kind in kinds:
        (document,) = (await p.post(c.message(kind), kind)).documents
        assert document.outcome.status == "accepted", document.outcome
        invt_no = document.outcome.invt_no or invt_no
    return invt_no


async def send(p: Pipeline, body: bytes, caller: Caller) -> dict[str, Any]:
    (document,) = (await p.ingestor.ingest(body, caller)).to_json()["documents"]
    return dict(document)


async def row(p: Pipeline, c: Consignment) -> dict[str, Any]:
    async with p.db.read() as conn:
        found = await bundles.get_by_key(conn, *c.key)
    assert found is not None
    return found


def codes(answer: dict[str, Any]) -> list[str]:
    return [e["code"] for e in answer.get("errors", ())]


async def test_arrival_before_the_inventory_counts_when_it_names_the_waybill(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = export(1)
        assert codes(await send(p, arrival_message([c], SITE, bill_no="B"), WAREHOUSE)) == [
            "LIFECYCLE_UNKNOWN"  # never seen: no waybill, no inventory naming it
        ]
        await play(p, c, (Kind.LOGISTICS,))
        answer = await send(p, arrival_message([c], SITE, bill_no="B"), WAREHOUSE)
        assert answer["status"] == "accepted", answer
        async with p.db.read() as conn:
            kept = (await conn.execute(select(waybill_arrivals))).mappings().all()
        assert [(r["logistics_no"], r["direction"]) for r in kept] == [
            (c.logistics["logisticsNo"], "E")
        ]
        await play(p, c, (Kind.ORDER, Kind.PAYMENT, Kind.INVENTORY))
        bundle = await row(p, c)
        assert bundle["state"] == "released" and bundle["arrived_at"] is not None


async def test_a_required_arrival_releases_when_it_comes_and_is_missing_at_the_deadline(
    pipelines: PipelineFactory,
) -> None:
    sets = {**DEFAULT_REQUIRED_SETS, "E9610": [*DEFAULT_REQUIRED_SETS["E9610"], "arrival"]}
    async with pipelines(required_sets=sets) as p:
        waits, never = export(2), export(3)
        await play(p, waits)
        await play(p, never)
        assert (await row(p, waits))["state"] == "pending"
        assert (await row(p, waits))["missing"] == ["arrival"]
        answer = await send(p, arrival_message([waits], SITE, bill_no="B"), CARRIER)
        assert answer["status"] == "accepted", answer
        assert (await row(p, waits))["state"] == "released"
        await p.sweep(datetime.now(UTC) + timedelta(days=2))
        late = await row(p, never)
        assert late["state"] == "exception"
        assert [f["code"] for f in late["findings"]] == ["MISSING_ARRIVAL"]
        # the arrival after the deadline releases it, as a late document would
        await send(p, arrival_message([never], SITE, bill_no="B"), CARRIER)
        assert (await row(p, never))["state"] == "released"


async def test_a_departure_closes_the_released_lists_it_names_and_only_those(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        listed, unlisted = export(4), export(5)
        invt_no = await play(p, listed)
        other = await play(p, unlisted)
        tie = master_bill_message(
            [listed, unlisted], {listed.key: invt_no, unlisted.key: other}, AGENT, bill_no="MB1"
        )
        assert (await send(p, tie, DECLARER))["status"] == "accepted"
        assert (await row(p, unlisted))["bill_no"] == "MB1"
        answer = await send(p, departure_message([listed], bill_no="MB1"), CARRIER)
        assert answer["status"] == "accepted", answer
        closed = await row(p, listed)
        assert closed["state"] == "closed" and closed["departed_at"] is not None
        assert (await row(p, unlisted))["state"] == "released"
        assert [e["decision"] for e in await p.entries(listed.key)] == ["release", "close"]
        async with p.db.read() as conn:
            every = await receipts.read_after(conn, 0, 1_000_000, None)
            feed = [r for r in every if r["invt_no"] == invt_no]
        assert [(r["recipient"], r["return_status"]) for r in feed][-1] == (P.agent.code, "899")


async def test_an_import_waybill_does_not_depart_and_an_arrival_is_not_changed(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = clean_import(random.Random(6), 6, when=WHEN)
        await play(p, c)
        body = departure_message([c])
        assert b"CEB509Message" in body
        assert codes(await send(p, body, CARRIER)) == ["LIFECYCLE_UNKNOWN"]
        changed = arrival_message([c], SITE, bill_no="B").replace(
            b"<ceb:appType>1</ceb:appType>", b"<ceb:appType>2</ceb:appType>"
        )
        assert codes(await send(p, changed, WAREHOUSE)) == ["ALREADY_DECIDED"]
        assert (await row(p, c))["arrived_at"] is None


async def test_a_master_bill_line_without_invt_no_ties_the_list_by_its_waybill(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        c = export(7)
        invt_no = await play(p, c)
        body = master_bill_message([c], {c.key: invt_no}, AGENT, bill_no="MB2")
        body = body.replace(f"<ceb:invtNo>{invt_no}</ceb:invtNo>".encode(), b"")
        assert (await send(p, body, DECLARER))["status"] == "accepted"
        assert (await row(p, c))["bill_no"] == "MB2"
        whole = arrival_message([c], SITE, bill_no="MB2", whole_bill=True)
        assert b"ArrivalList" not in whole
        assert (await send(p, whole, WAREHOUSE))["status"] == "accepted"
        assert (await row(p, c))["arrived_at"] is not None
        nobody = arrival_message([c], SITE, bill_no="MB-NONE", whole_bill=True)
        assert codes(await send(p, nobody, WAREHOUSE)) == ["LIFECYCLE_UNKNOWN"]
