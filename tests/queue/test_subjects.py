"""Broker subjects follow every manifest decision (SPEC §8, §10): the lifecycle's too."""

from __future__ import annotations

import pytest

from service.queue.broker import subject


@pytest.mark.parametrize(
    "decision", ["release", "exception", "reject", "cancel", "return", "close"]
)
def test_a_subject_per_regime_and_decision(decision: str) -> None:
    assert subject({"regime": "1210", "decision": decision}) == f"sandan.manifest.1210.{decision}"
    assert subject({"regime": None, "decision": decision}) == f"sandan.manifest.unknown.{decision}"
