"""Export summaries on the in-process pipeline (SPEC §10): a closed (结关) list is summarised
like a released one, a returned one is not; two summaries of one list in one message; a
refused summary leaves nothing behind."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from service.demo.compose import compose
from service.demo.consignments import Consignment
from service.demo.exports import clean_export
from service.demo.summary import summary_fields, summary_message
from service.messages.registry import BUNDLE_KINDS, Kind
from service.store import bundles
from service.store.tables import documents, summaries, summary_inventories
from tests.engine.conftest import P, Pipeline, PipelineFactory

WHEN = datetime(2026, 3, 2, 9, 30, 0)


def export(number: int) -> Consignment:
    return clean_export(random.Random(number), number, regime="9610", when=WHEN)


async def release(p: Pipeline, c: Consignment) -> str:
    invt_no = ""
    for kind in BUNDLE_KINDS:
        (document,) = (await p.post(c.message(kind), kind)).documents
        assert document.outcome.status == "accepted", document.outcome
        invt_no = document.outcome.invt_no or invt_no
    found = await p.bundle(c.key)
    assert found is not None and found["state"] == "released"
    return invt_no


async def set_state(p: Pipeline, c: Consignment, state: str) -> None:
    """What the departure (离境) or a full return leaves on the bundle; those documents are
    another module's, the summary reads only the state."""
    async with p.db.write() as conn:
        found = await bundles.get_by_key(conn, *c.key)
        assert found is not None
        await bundles.save(conn, int(found["id"]), state=state)


async def summarise(p: Pipeline, invt_nos: list[str], copies: int = 1) -> list[dict[str, Any]]:
    """``copies`` applications naming ``invt_nos`` in one message, sent by the ebc."""
    heads = [summary_fields(P.ebc.code, P.ebc.name) for _ in range(copies)]
    lines = [{"invtNo": no} for no in invt_nos]
    body = compose("CEB701Message", [(h, lines) for h in heads], P.ebc.code)
    result = await p.post(body, Kind.ORDER)  # the platform key acts for the ebc too
    return list(result.to_json()["documents"])


async def counts(p: Pipeline) -> tuple[int, int, int]:
    async with p.db.read() as conn:
        return (
            (await conn.execute(select(func.count()).select_from(summaries))).scalar_one(),
            (
                await conn.execute(select(func.count()).select_from(summary_inventories))
            ).scalar_one(),
            (
                await conn.execute(
                    select(func.count()).select_from(documents).where(documents.c.kind == "summary")
                )
            ).scalar_one(),
        )


async def test_a_closed_list_is_summarised_like_a_released_one(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        closed, open_ = export(801), export(802)
        invt_nos = sorted([await release(p, closed), await release(p, open_)])
        await set_state(p, closed, "closed")
        (answer,) = await summarise(p, invt_nos)
        assert answer["status"] == "accepted", answer["errors"]
        assert answer["key"]["sumNo"][8] == "S"
        assert await counts(p) == (1, 2, 1)


async def test_a_returned_list_is_not_summarised_and_nothing_is_left(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        returned, fine = export(811), export(812)
        invt_nos = [await release(p, returned), await release(p, fine)]
        await set_state(p, returned, "returned")
        (answer,) = await summarise(p, invt_nos)
        assert [e["code"] for e in answer["errors"]] == ["SUMMARY_NOT_RELEASED"], answer
        assert returned_no_in(answer, invt_nos[0])
        assert await counts(p) == (0, 0, 0)


def returned_no_in(answer: dict[str, Any], invt_no: str) -> bool:
    return invt_no in answer["errors"][0]["message"]


async def test_two_summaries_of_one_list_in_one_message(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        invt_no = await release(p, export(821))
        first, second = await summarise(p, [invt_no], copies=2)
        assert first["status"] == "accepted", first["errors"]
        assert [e["code"] for e in second["errors"]] == ["SUMMARY_DUPLICATE"]
        assert first["key"]["sumNo"] in second["errors"][0]["message"]
        assert await counts(p) == (1, 1, 1)


async def test_the_flags_are_kept_with_the_summary(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        invt_no = await release(p, export(831))
        head = summary_fields(P.ebc.code, P.ebc.name, item_name_flag=True, by_owner=True)
        (document,) = (
            await p.post(summary_message(head, [invt_no], P.ebc.code), Kind.ORDER)
        ).documents
        assert document.outcome.status == "accepted" and document.outcome.sum_no
        async with p.db.read() as conn:
            row = (await conn.execute(select(summaries))).mappings().one()
        assert row["sum_no"] == document.outcome.sum_no
        assert row["head"]["itemNameFlag"] == "1" and row["head"]["summaryFlag"] == "2"
        assert {line["ownerCode"] for line in row["lines"]} == {P.ebc.code}
