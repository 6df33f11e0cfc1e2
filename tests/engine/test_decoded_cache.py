"""The engine judges a bundle the same whether its documents' decoded forms are at hand
(stored by this process) or must be read back from the stored JSON (stored by another
process, or before a restart)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from service.demo.consignments import Consignment, clean_import, message_of
from service.demo.mistakes import with_mistake
from service.engine import decoded, intake
from service.errors import ServiceUnavailable
from service.messages.registry import Kind
from tests.engine.conftest import Pipeline, PipelineFactory

_FIRST = (Kind.ORDER, Kind.PAYMENT, Kind.LOGISTICS)


def _consignments() -> list[Consignment]:
    rng = random.Random(11)
    clean = [clean_import(rng, n) for n in range(1, 4)]
    mistakes = ("ORDER_PAID_FORMULA", "PAYMENT_AMOUNT", "INVENTORY_ITEMS", "TAX_TOTAL")
    return clean + [
        with_mistake(clean_import(rng, 10 + i), code) for i, code in enumerate(mistakes)
    ]


async def _outcome(p: Pipeline, consignments: list[Consignment]) -> list[Any]:
    seen = []
    for c in consignments:
        key = (c.order["ebpCode"], c.order["orderNo"])
        bundle = await p.bundle(key)
        assert bundle is not None
        entries = await p.entries(key)
        seen.append(
            (
                bundle["state"],
                sorted(f["code"] for f in bundle["findings"]),
                [(e["decision"], sorted(e["rules"])) for e in entries],
            )
        )
    return seen


async def _play(p: Pipeline, consignments: list[Consignment], cold: bool) -> list[Any]:
    for kind in _FIRST:
        result = await p.post(message_of(consignments, kind), kind)
        assert {d.outcome.status for d in result.documents} == {"accepted"}
    if cold:
        decoded._cache.clear()
    result = await p.post(message_of(consignments, Kind.INVENTORY), Kind.INVENTORY)
    assert {d.outcome.status for d in result.documents} == {"accepted"}
    return await _outcome(p, consignments)


async def test_decisions_do_not_depend_on_the_decoded_cache(pipelines: PipelineFactory) -> None:
    consignments = _consignments()
    async with pipelines() as p:
        warm = await _play(p, consignments, cold=False)
    async with pipelines() as p:
        cold = await _play(p, consignments, cold=True)
    assert cold == warm
    # the mistakes were judged at all (TAX_TOTAL alone is a warning: released with it)
    assert [codes for _, codes, _ in warm] == [
        [],
        [],
        [],
        ["ORDER_PAID_FORMULA"],
        ["PAYMENT_AMOUNT"],
        ["INVENTORY_ITEMS", "TAX_TOTAL"],
        ["TAX_TOTAL"],
    ]


async def test_a_rolled_back_batch_leaves_nothing_in_the_cache(
    pipelines: PipelineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    consignments = _consignments()

    async def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the transaction fails after the documents were written")

    async with pipelines() as p:
        decoded._cache.clear()
        monkeypatch.setattr(intake, "decide_many", fail)
        with pytest.raises(ServiceUnavailable):
            await p.post(message_of(consignments, Kind.ORDER), Kind.ORDER)
        assert not decoded._cache, "ids of rolled-back rows may be given to other rows"
        monkeypatch.undo()
        result = await p.post(message_of(consignments, Kind.ORDER), Kind.ORDER)
        assert {d.outcome.status for d in result.documents} == {"accepted"}
        assert len(decoded._cache) == len(consignments)
