"""Operator actions (engine/review.py) on a real pipeline: states, manifest entries, audit
records and the annual ledger (SPEC §5 end: a release counts, a reject gives it back)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from service.demo.consignments import Consignment, clean_import
from service.demo.mistakes import with_mistake
from service.engine import review
from service.errors import ActionNotAllowed, InvalidRequest, NotFound, VersionConflict
from service.messages.registry import BUNDLE_KINDS
from service.store import audit, bundles, ledger, manifest
from tests.engine.conftest import OPERATOR, Pipeline, PipelineFactory

WHEN = datetime(2026, 3, 2, 9, 30, 0)
NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def consignment(number: int, mistake: str | None = None) -> Consignment:
    c = clean_import(random.Random(number), number, when=WHEN)
    return with_mistake(c, mistake) if mistake else c


async def play(p: Pipeline, c: Consignment) -> tuple[str, str]:
    for kind in BUNDLE_KINDS:
        result = await p.post(c.message(kind), kind)
        assert all(d.outcome.status == "accepted" for d in result.documents), result
    return c.order["ebpCode"], c.order["orderNo"]


async def row(p: Pipeline, key: tuple[str, str]) -> dict[str, Any]:
    async with p.db.read() as conn:
        found = await bundles.get_by_key(conn, *key)
    assert found is not None
    return found


async def act(p: Pipeline, key: tuple[str, str], action: str, reason: str = "checked") -> Any:
    version = (await row(p, key))["version"]
    async with p.db.write() as conn:
        return await review.act(conn, *key, action, reason, version, OPERATOR, NOW)


async def year_total(p: Pipeline, buyer: str) -> Decimal:
    async with p.db.read() as conn:
        return await ledger.year_total(conn, buyer, 2026)


async def buyer_of(p: Pipeline, key: tuple[str, str]) -> str:
    """The keyed hash the ledger files this bundle's buyer under (known once released)."""
    bundle = await row(p, key)
    assert bundle["ledger_buyer"] is not None
    return str(bundle["ledger_buyer"])


async def test_override_release_counts_in_the_ledger_and_reject_gives_it_back(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        key = await play(p, consignment(1, "PAYMENT_AMOUNT"))
        assert (await row(p, key))["state"] == "exception"
        done = await act(p, key, "release", "bank confirmed the amount")
        bundle = await row(p, key)
        assert (done.state, bundle["state"]) == ("released", "released")
        buyer = await buyer_of(p, key)
        assert bundle["ledger_amount"] > 0
        assert await year_total(p, buyer) == bundle["ledger_amount"]

        await act(p, key, "reject", "wrong after all")
        assert (await row(p, key))["state"] == "rejected"
        assert (await row(p, key))["ledger_amount"] is None
        assert await year_total(p, buyer) == 0

        async with p.db.read() as conn:
            entries = await manifest.for_bundle(conn, bundle["id"])
            trail = await audit.for_bundle(conn, bundle["id"])
        assert [(e["decision"], e["by"]) for e in entries] == [
            ("exception", "engine"),
            ("release", OPERATOR.label),
            ("reject", OPERATOR.label),
        ]
        assert entries[1]["reason"] == "bank confirmed the amount"
        assert entries[1]["logistics_no"] == entries[0]["logistics_no"]
        assert [(a["action"], a["actor"], a["seq"]) for a in trail] == [
            ("release", OPERATOR.label, entries[1]["seq"]),
            ("reject", OPERATOR.label, entries[2]["seq"]),
        ]
        assert trail[0]["state_before"] == "exception"
        assert trail[1]["bundle_version"] == trail[0]["new_version"]


async def test_reject_of_an_engine_release_gives_the_amount_back(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        key = await play(p, consignment(2))
        assert (await row(p, key))["state"] == "released"
        buyer = await buyer_of(p, key)
        amount = (await row(p, key))["ledger_amount"]
        assert await year_total(p, buyer) == amount
        await act(p, key, "reject", "parcel seized")
        assert await year_total(p, buyer) == 0


async def test_reopen_puts_a_rejected_or_released_bundle_back_in_the_queue(
    pipelines: PipelineFactory,
) -> None:
    async with pipelines() as p:
        key = await play(p, consignment(3))
        buyer = await buyer_of(p, key)
        done = await act(p, key, "reopen", "complaint from the buyer")
        assert done.state == "exception"
        assert (await row(p, key))["state"] == "exception"
        # Not released any more: its amount no longer counts.
        assert await year_total(p, buyer) == 0
        await act(p, key, "reject", "refused")
        await act(p, key, "reopen", "the refusal was a mistake")
        assert (await row(p, key))["state"] == "exception"
        await act(p, key, "release", "all good")
        bundle = await row(p, key)
        assert await year_total(p, buyer) == bundle["ledger_amount"]
        async with p.db.read() as conn:
            entries = await manifest.for_bundle(conn, bundle["id"])
        assert [e["decision"] for e in entries] == [
            "release",
            "exception",
            "reject",
            "exception",
            "release",
        ]


@pytest.mark.parametrize(
    ("action", "reason", "error"),
    [
        ("release", "", InvalidRequest),
        ("release", "   ", InvalidRequest),
        ("release", None, InvalidRequest),
        ("release", "x" * 2001, InvalidRequest),
        ("approve", "because", InvalidRequest),
        ("reopen", "because", ActionNotAllowed),  # an exception is open already
    ],
)
async def test_refused_actions_change_nothing(
    pipelines: PipelineFactory, action: str, reason: str | None, error: type[Exception]
) -> None:
    async with pipelines() as p:
        key = await play(p, consignment(4, "PAYMENT_AMOUNT"))
        before = await row(p, key)
        with pytest.raises(error):
            async with p.db.write() as conn:
                await review.act(conn, *key, action, reason, before["version"], OPERATOR, NOW)
        assert await row(p, key) == before
        async with p.db.read() as conn:
            assert len(await manifest.for_bundle(conn, before["id"])) == 1
            assert await audit.for_bundle(conn, before["id"]) == []


async def test_a_stale_version_is_refused(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        key = await play(p, consignment(5, "PAYMENT_AMOUNT"))
        seen = (await row(p, key))["version"]
        await act(p, key, "reject", "first operator")
        before = await row(p, key)
        with pytest.raises(VersionConflict):
            async with p.db.write() as conn:
                await review.act(conn, *key, "release", "second operator", seen, OPERATOR, NOW)
        assert await row(p, key) == before
        with pytest.raises(NotFound):
            async with p.db.write() as conn:
                await review.act(conn, "0000000000", "nope", "reject", "x", 1, OPERATOR, NOW)


async def test_an_id_number_in_a_reason_is_masked(pipelines: PipelineFactory) -> None:
    async with pipelines() as p:
        key = await play(p, consignment(6, "PAYMENT_AMOUNT"))
        await act(p, key, "reject", "buyer 110105194912310021 called from 13812345678")
        async with p.db.read() as conn:
            (record,) = await audit.for_bundle(conn, (await row(p, key))["id"])
        assert record["reason"] == "buyer 1101**********0021 called from 138****5678"


async def test_two_operators_deciding_at_once_one_wins(pipelines: PipelineFactory) -> None:
    """Both saw the same version: the bundle lock and the version check let one through."""
    async with pipelines() as p:
        key = await play(p, consignment(7, "PAYMENT_AMOUNT"))
        seen = (await row(p, key))["version"]

        async def decide(action: str) -> object:
            try:
                async with p.db.write() as conn:
                    return await review.act(conn, *key, action, action, seen, OPERATOR, NOW)
            except VersionConflict as conflict:
                return conflict

        results = await asyncio.gather(decide("release"), decide("reject"))
        (won,) = [r for r in results if isinstance(r, review.ActionDone)]
        assert sum(isinstance(r, VersionConflict) for r in results) == 1
        assert (await row(p, key))["state"] == won.state
        async with p.db.read() as conn:
            bundle_id = (await row(p, key))["id"]
            assert len(await manifest.for_bundle(conn, bundle_id)) == 2
            assert len(await audit.for_bundle(conn, bundle_id)) == 1
