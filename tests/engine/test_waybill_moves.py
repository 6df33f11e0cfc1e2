"""SPEC §10, last paragraph: a waybill version that names a different orderNo moves the
waybill. The bundle that held it loses it and is judged again (it may now miss its logistics);
the bundle it now belongs to by SPEC §4 gains it and is judged again."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from service.demo.compose import new_guid
from service.demo.consignments import Consignment, clean_import
from service.demo.exports import clean_export
from service.engine import review
from service.messages.registry import Kind
from service.store import bundles, tables
from tests.engine.conftest import OPERATOR, Pipeline, PipelineFactory

WHEN = datetime(2026, 3, 2, 9, 30, 0)
NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
ORDER, PAYMENT, LOGISTICS, INVENTORY = Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY


def pair(seed: int) -> tuple[Consignment, Consignment, Consignment]:
    """Consignments A and B, and B's waybill as the carrier first sent it: naming A's
    orderNo. A's inventory names A's own waybill, which never comes."""
    rng = random.Random(seed)
    a = clean_import(rng, 2 * seed, when=WHEN)
    b = clean_import(rng, 2 * seed + 1, when=WHEN)
    misnamed = b.copy()
    misnamed.logistics["orderNo"] = a.order["orderNo"]
    return a, b, misnamed


def version(c: Consignment, app_time: str, **fields: Any) -> Consignment:
    """A new version (appType 2, new guid) of ``c``'s waybill."""
    out = c.copy()
    out.logistics.update({"guid": new_guid(), "appType": "2", "appTime": app_time, **fields})
    return out


async def send(p: Pipeline, c: Consignment, *kinds: Kind) -> list[str]:
    """Post each document alone; the statuses (and the error code of a rejected one)."""
    out = []
    for kind in kinds:
        [doc] = (await p.post(c.message(kind), kind)).documents
        outcome = doc.outcome
        out.append(outcome.errors[0]["code"] if outcome.status == "rejected" else outcome.status)
    return out


async def view(p: Pipeline, c: Consignment) -> dict[str, Any]:
    found = await p.bundle(c.key)
    assert found is not None, c.key
    return found


def waybill_guid(bundle: dict[str, Any]) -> str | None:
    doc = bundle["documents"].get("logistics")
    return None if doc is None else str(doc["guid"])


async def test_a_new_orderno_moves_the_waybill_to_the_other_order(
    pipelines: PipelineFactory,
) -> None:
    a, b, misnamed = pair(1)
    async with pipelines() as p:
        assert await send(p, a, ORDER, PAYMENT, INVENTORY) == ["accepted"] * 3
        # the only bundle with that orderNo: the waybill attaches to A, which is complete
        assert await send(p, misnamed, LOGISTICS) == ["accepted"]
        before = await view(p, a)
        assert before["state"] == "exception"
        assert waybill_guid(before) == misnamed.logistics["guid"]
        assert await send(p, b, ORDER, PAYMENT) == ["accepted"] * 2

        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["accepted"]
        left = await view(p, a)
        assert (left["state"], left["missing"], left["findings"]) == ("pending", ["logistics"], [])
        assert waybill_guid(left) is None
        assert left["history"][-1]["event"] == "detached"
        assert left["history"][-1]["kind"] == "logistics"
        gained = await view(p, b)
        assert (gained["state"], gained["missing"]) == ("pending", ["inventory"])
        assert waybill_guid(gained) == corrected.logistics["guid"]
        assert [e["event"] for e in gained["history"]][-2:] == ["document", "attached"]

        assert await send(p, b, INVENTORY) == ["accepted"]
        done = await view(p, b)
        assert (done["state"], done["findings"]) == ("released", [])
        assert [e["decision"] for e in await p.entries(b.key)] == ["release"]

        await p.sweep(FAR_FUTURE)
        late = await view(p, a)
        assert late["state"] == "exception"
        assert [f["code"] for f in late["findings"]] == ["MISSING_LOGISTICS"]
        assert [(e["decision"], e["rules"]) for e in await p.entries(a.key)][-1] == (
            "exception",
            ["MISSING_LOGISTICS"],
        )


async def test_two_inventories_name_the_waybill_the_orderno_picks_between_them(
    pipelines: PipelineFactory,
) -> None:
    """Both inventories name the waybill (A's agent mistyped its logisticsNo): the one whose
    order the waybill names outranks the other (SPEC §4), so the new orderNo moves it, and
    the gaining bundle, complete, is released at once."""
    a, b, misnamed = pair(2)
    a.inventory["logisticsNo"] = b.logistics["logisticsNo"]
    async with pipelines() as p:
        assert await send(p, a, ORDER, PAYMENT, INVENTORY) == ["accepted"] * 3
        assert await send(p, b, ORDER, PAYMENT, INVENTORY) == ["accepted"] * 3
        assert await send(p, misnamed, LOGISTICS) == ["accepted"]
        assert waybill_guid(await view(p, a)) == misnamed.logistics["guid"]
        assert (await view(p, a))["state"] == "exception"  # the waybill is B's parcel
        assert (await view(p, b))["missing"] == ["logistics"]

        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["accepted"]
        gained = await view(p, b)
        assert (gained["state"], gained["findings"]) == ("released", [])
        assert waybill_guid(gained) == corrected.logistics["guid"]
        left = await view(p, a)
        assert (left["state"], left["missing"]) == ("pending", ["logistics"])
        assert "detached" in [e["event"] for e in left["history"]]


async def test_a_waybill_moved_to_an_order_not_yet_seen_waits_for_it(
    pipelines: PipelineFactory,
) -> None:
    a, b, misnamed = pair(3)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["accepted"]
        left = await view(p, a)
        assert (left["state"], left["missing"]) == ("pending", ["logistics"])
        assert await p.bundle(b.key) is None  # a waybill makes no bundle of its own

        assert await send(p, b, ORDER) == ["accepted"]
        gained = await view(p, b)
        assert waybill_guid(gained) == corrected.logistics["guid"]
        assert await send(p, b, PAYMENT, INVENTORY) == ["accepted"] * 2
        assert (await view(p, b))["state"] == "released"
        assert waybill_guid(await view(p, a)) is None


async def test_an_inventory_taking_the_waybill_records_it_leaving(
    pipelines: PipelineFactory,
) -> None:
    """B's inventory names the waybill A holds by orderNo: A loses it (as before) and its
    history now says so."""
    a, b, misnamed = pair(4)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        await send(p, b, ORDER, PAYMENT, INVENTORY)
        left = await view(p, a)
        assert (left["state"], left["missing"]) == ("pending", ["logistics"])
        assert left["history"][-1]["event"] == "detached"
        taken = await view(p, b)
        assert waybill_guid(taken) == misnamed.logistics["guid"]
        assert "attached" in [e["event"] for e in taken["history"]]
        # it still names A's order: B's inventory points at a parcel for someone else
        assert [f["code"] for f in taken["findings"]] == ["INVENTORY_LOGISTICS"]

        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["accepted"]
        assert (await view(p, b))["state"] == "released"


async def test_versions_in_one_batch_end_where_the_newest_belongs(
    pipelines: PipelineFactory,
) -> None:
    a, b, misnamed = pair(5)
    corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
    async with pipelines(intake_batch_interval_ms=50) as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, b, ORDER, PAYMENT)
        results = await asyncio.gather(
            p.post(misnamed.message(LOGISTICS), LOGISTICS),
            p.post(corrected.message(LOGISTICS), LOGISTICS),
        )
        assert p.batcher.batch_sizes[-1] == 2, "both versions must share one transaction"
        assert [r.documents[0].outcome.status for r in results] == ["accepted"] * 2
        left = await view(p, a)
        assert (left["state"], left["missing"]) == ("pending", ["logistics"])
        # v1 came and went in that transaction: A was not judged in between
        assert [e["event"] for e in left["history"]][-2:] == ["document", "detached"]
        assert await p.entries(a.key) == []
        assert waybill_guid(await view(p, b)) == corrected.logistics["guid"]


# --- released bundles: a release is final ------------------------------------------------------


async def release_by_operator(p: Pipeline, c: Consignment) -> None:
    async with p.db.read() as conn:
        found = await bundles.get_by_key(conn, *c.key)
    assert found is not None
    async with p.db.write() as conn:
        await review.act(conn, *c.key, "release", "checked", found["version"], OPERATOR, NOW)


async def test_a_waybill_a_release_was_made_on_cannot_leave(pipelines: PipelineFactory) -> None:
    a, b, misnamed = pair(6)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        await send(p, b, ORDER, PAYMENT)
        await release_by_operator(p, a)
        before = (await view(p, a), await view(p, b), await p.entries(a.key))

        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["ALREADY_DECIDED"]
        assert (await view(p, a), await view(p, b), await p.entries(a.key)) == before
        # nor into nowhere: the same refusal with no bundle for the new orderNo
        elsewhere = version(misnamed, "20260302093200", orderNo="SD-NOBODY")
        assert await send(p, elsewhere, LOGISTICS) == ["ALREADY_DECIDED"]
        assert waybill_guid(await view(p, a)) == misnamed.logistics["guid"]


async def test_a_waybill_a_cancelled_bundle_was_judged_on_cannot_leave(
    pipelines: PipelineFactory,
) -> None:
    """SPEC §10: BUNDLE_CANCELLED for any new version for a cancelled consignment. No
    cancel message is parsed yet: the cancel is written as its engine would leave it."""
    a, b, misnamed = pair(11)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        await send(p, b, ORDER, PAYMENT)
        async with p.db.write() as conn:
            await conn.execute(
                update(tables.bundles)
                .where(tables.bundles.c.order_no == a.order["orderNo"])
                .values(state="cancelled", cancelled_at=NOW)
            )
        before = (await view(p, a), await view(p, b))
        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["BUNDLE_CANCELLED"]
        assert (await view(p, a), await view(p, b)) == before


async def test_a_waybill_a_release_was_not_made_on_may_leave(pipelines: PipelineFactory) -> None:
    """A holds the misnamed waybill by orderNo and its own, which its inventory names and
    which came later: A was released on its own. The misnamed one leaves for B; A's release
    stands, untouched."""
    a, b, misnamed = pair(7)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        assert (await view(p, a))["state"] == "exception"
        await send(p, a, LOGISTICS)
        assert await send(p, b, ORDER, PAYMENT, INVENTORY) == ["accepted"] * 3
        released = await view(p, a)
        assert released["state"] == "released"
        assert waybill_guid(released) == a.logistics["guid"]
        # B's inventory names it, but a released bundle gives nothing up to a claim
        assert waybill_guid(await view(p, b)) is None
        entries = await p.entries(a.key)

        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["accepted"]
        after = await view(p, a)
        assert (after["state"], after["findings"]) == ("released", [])
        assert waybill_guid(after) == a.logistics["guid"]
        assert after["history"][-1]["event"] == "detached"
        assert await p.entries(a.key) == entries, "not judged again: nothing it rests on changed"
        assert (await view(p, b))["state"] == "released"


async def test_a_waybill_cannot_move_into_a_released_bundle(pipelines: PipelineFactory) -> None:
    a, b, misnamed = pair(8)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        other = b.copy()  # B complete with a waybill of its own
        other.logistics["guid"] = new_guid()
        other.logistics["logisticsNo"] = other.inventory["logisticsNo"] = "YT-B-OWN"
        assert await send(p, other, ORDER, PAYMENT, INVENTORY, LOGISTICS) == ["accepted"] * 4
        assert (await view(p, b))["state"] == "released"
        before = (await view(p, a), await view(p, b))

        corrected = version(misnamed, "20260302093100", orderNo=b.order["orderNo"])
        assert await send(p, corrected, LOGISTICS) == ["ALREADY_DECIDED"]
        assert (await view(p, a), await view(p, b)) == before


# --- deletion and export: unchanged --------------------------------------------------------------


async def test_a_deletion_takes_the_waybill_out_of_its_bundle_whatever_it_names(
    pipelines: PipelineFactory,
) -> None:
    a, b, misnamed = pair(9)
    async with pipelines() as p:
        await send(p, a, ORDER, PAYMENT, INVENTORY)
        await send(p, misnamed, LOGISTICS)
        await send(p, b, ORDER, PAYMENT)
        deletion = version(misnamed, "20260302093100", appType="3", orderNo=b.order["orderNo"])
        assert await send(p, deletion, LOGISTICS) == ["accepted"]
        left = await view(p, a)
        assert (left["state"], left["missing"]) == ("pending", ["logistics"])
        assert left["history"][-1]["event"] == "document"  # the deletion itself
        gained = await view(p, b)
        assert waybill_guid(gained) is None
        assert [e["event"] for e in gained["history"]] == ["document", "document"]


async def test_an_export_waybill_version_stays_with_the_inventory_naming_it(
    pipelines: PipelineFactory,
) -> None:
    """CEB505 names no orderNo: its versions go where the inventory naming it is."""
    c = clean_export(random.Random(10), 10, regime="9610", when=WHEN)
    async with pipelines() as p:
        assert await send(p, c, ORDER, INVENTORY, LOGISTICS) == ["accepted"] * 3
        changed = version(c, "20260302093100", grossWeight=c.logistics["grossWeight"] + 1)
        assert await send(p, changed, LOGISTICS) == ["accepted"]
        bundle = await view(p, c)
        assert (bundle["state"], bundle["missing"]) == ("pending", ["payment"])
        assert waybill_guid(bundle) == changed.logistics["guid"]
        events = [e["event"] for e in bundle["history"]]
        assert "detached" not in events and "attached" not in events
        assert await send(p, c, PAYMENT) == ["accepted"]
        assert (await view(p, c))["state"] == "released"
