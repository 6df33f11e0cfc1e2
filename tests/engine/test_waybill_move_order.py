"""SPEC §4 and §10 together: waybills that move between bundles end in the same place, and
leave every bundle decided alike, whichever order, grouping and concurrency the documents
and the waybill's versions arrive in (appTimes order the versions; an older version that
comes after a newer one is refused and changes nothing).

The mix: waybill W is B's parcel, first sent naming A's order (A has its order, payment and
an inventory naming a waybill that never comes), then corrected to name B, whose inventory
names W. Waybill X is E's parcel, first sent naming F's order (F has only its order and
payment), then corrected to name E, whose inventory names X. C is a clean bystander. Played
once in natural order (the reference), then under hypothesis: a permutation of all
documents, consecutive same-kind documents grouped into messages, several messages at once
so that they share an intake transaction.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.demo.consignments import Consignment, clean_import, message_of
from service.messages.registry import BUNDLE_KINDS, Kind
from tests.engine.conftest import Pipeline, PipelineFactory
from tests.engine.test_waybill_moves import version

WHEN = datetime(2026, 3, 2, 9, 30, 0)
CORRECTED_AT = "20260302093100"
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
ORDER, PAYMENT, LOGISTICS, INVENTORY = Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS, Kind.INVENTORY


@dataclass(frozen=True)
class Cast:
    a: Consignment
    b: Consignment
    c: Consignment
    e: Consignment
    f: Consignment
    w1: Consignment  # W naming A's order
    w2: Consignment  # W corrected: B's order
    x1: Consignment  # X naming F's order
    x2: Consignment  # X corrected: E's order

    @property
    def bundles(self) -> tuple[Consignment, ...]:
        return (self.a, self.b, self.c, self.e, self.f)

    @property
    def senders(self) -> tuple[Consignment, ...]:
        return (*self.bundles, self.w1, self.w2, self.x1, self.x2)


@cache
def cast() -> Cast:
    rng = random.Random(20260302)
    a, b, c, e, f = (clean_import(rng, n, when=WHEN) for n in (31, 32, 33, 35, 36))
    w1 = b.copy()
    w1.logistics["orderNo"] = a.order["orderNo"]
    x1 = e.copy()
    x1.logistics["orderNo"] = f.order["orderNo"]
    return Cast(
        a, b, c, e, f,
        w1, version(w1, CORRECTED_AT, orderNo=b.order["orderNo"]),
        x1, version(x1, CORRECTED_AT, orderNo=e.order["orderNo"]),
    )  # fmt: skip


def _documents() -> tuple[tuple[int, Kind], ...]:
    """(index into ``cast().senders``, kind) of every document sent, in natural order."""
    four, three = BUNDLE_KINDS, (ORDER, PAYMENT, INVENTORY)
    # in the order of ``Cast.senders``: a, b, c, e, f, w1, w2, x1, x2
    sent = (three, three, four, three, (ORDER, PAYMENT), *[(LOGISTICS,)] * 4)
    return tuple((i, kind) for i, kinds in enumerate(sent) for kind in kinds)


DOCUMENTS = _documents()
# documents that may come after a newer version of themselves, and are refused then
OLDER_VERSIONS = {cast().senders.index(cast().w1), cast().senders.index(cast().x1)}


@dataclass(frozen=True)
class Message:
    kind: Kind
    members: tuple[int, ...]

    def body(self) -> bytes:
        return message_of([cast().senders[i] for i in self.members], self.kind)


def group(documents: list[tuple[int, Kind]], joins: list[bool]) -> list[Message]:
    messages: list[Message] = []
    for (index, kind), join in zip(documents, joins, strict=True):
        if messages and join and messages[-1].kind is kind:
            last = messages.pop()
            messages.append(Message(kind, (*last.members, index)))
        else:
            messages.append(Message(kind, (index,)))
    return messages


@dataclass(frozen=True)
class Arrival:
    messages: tuple[Message, ...]
    concurrency: int


@st.composite
def arrivals(draw: st.DrawFn) -> Arrival:
    order = draw(st.permutations(DOCUMENTS))
    joins = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    concurrency = draw(st.integers(min_value=1, max_value=6))
    return Arrival(tuple(group(list(order), joins)), concurrency)


# bundle key -> (state, finding codes, missing, document kinds, waybill guid held)
Picture = dict[tuple[str, str], tuple[Any, ...]]


async def picture(p: Pipeline, *, entries: bool) -> Picture:
    out: Picture = {}
    for c in cast().bundles:
        view = await p.bundle(c.key)
        assert view is not None, c.key
        waybill = view["documents"].get("logistics")
        shape: tuple[Any, ...] = (
            view["state"],
            tuple(sorted(f["code"] for f in view["findings"])),
            tuple(sorted(view["missing"])),
            tuple(sorted(view["documents"])),
            waybill and waybill["guid"],
        )
        if entries:
            # the standing decision; the ones before it may differ with the arrival (a
            # bundle judged on the waybill before it moved away)
            last = (await p.entries(c.key))[-1]
            shape += ((last["decision"], tuple(sorted(last["rules"]))),)
        out[c.key] = shape
    return out


async def play(p: Pipeline, arrival: Arrival) -> tuple[Picture, Picture]:
    messages = arrival.messages
    for start in range(0, len(messages), arrival.concurrency):
        chunk = messages[start : start + arrival.concurrency]
        results = await asyncio.gather(*(p.post(m.body(), m.kind) for m in chunk))
        for message, result in zip(chunk, results, strict=True):
            for index, doc in zip(message.members, result.documents, strict=True):
                status = doc.outcome.status
                if status == "rejected" and index in OLDER_VERSIONS:
                    # after the newer one: STALE, or ALREADY_DECIDED when the bundle it would
                    # go to is released already (that check comes first, as for any change)
                    [error] = doc.outcome.errors
                    assert error["code"] in ("STALE", "ALREADY_DECIDED"), result.to_json()
                else:
                    assert status == "accepted", (message, result.to_json())
    after_intake = await picture(p, entries=False)
    await p.sweep(FAR_FUTURE)
    return after_intake, await picture(p, entries=True)


NATURAL = Arrival(tuple(Message(kind, (i,)) for i, kind in DOCUMENTS), 1)


@pytest.fixture(scope="module")
def reference(pipelines: PipelineFactory) -> tuple[Picture, Picture]:
    async def run() -> tuple[Picture, Picture]:
        async with pipelines() as p:
            return await play(p, NATURAL)

    return asyncio.run(run())


def test_reference_run_places_the_waybills_where_they_belong(
    reference: tuple[Picture, Picture],
) -> None:
    the = cast()
    after_intake, after_sweep = reference
    three = ("inventory", "order", "payment")
    assert after_intake[the.a.key] == ("pending", (), ("logistics",), three, None)
    assert after_sweep[the.a.key] == (
        "exception",
        ("MISSING_LOGISTICS",),
        ("logistics",),
        three,
        None,
        ("exception", ("MISSING_LOGISTICS",)),
    )
    four = ("inventory", "logistics", "order", "payment")
    for c, waybill in ((the.b, the.w2), (the.e, the.x2), (the.c, the.c)):
        assert after_sweep[c.key] == (
            "released", (), (), four, waybill.logistics["guid"], ("release", ()),
        ), c.key  # fmt: skip
        assert after_sweep[c.key][:5] == after_intake[c.key]
    two = ("order", "payment")
    assert after_intake[the.f.key] == ("pending", (), ("inventory", "logistics"), two, None)
    assert after_sweep[the.f.key][:2] == ("exception", ("MISSING_INVENTORY", "MISSING_LOGISTICS"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrival=arrivals())
def test_moved_waybills_do_not_depend_on_arrival(
    pipelines: PipelineFactory, reference: tuple[Picture, Picture], arrival: Arrival
) -> None:
    async def run() -> tuple[Picture, Picture]:
        async with pipelines() as p:
            return await play(p, arrival)

    assert asyncio.run(run()) == reference
