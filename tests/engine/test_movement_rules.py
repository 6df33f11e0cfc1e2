"""An arrival a regime's required set may name (SPEC §10): pure rules, no store."""

from __future__ import annotations

import pytest

from service.config import DEFAULT_REQUIRED_SETS, Settings
from service.messages.registry import Kind
from service.rules.catalogue import MISSING_CODES, RULES
from service.rules.evaluate import Outcome, evaluate
from service.rules.regime import classify, required_kinds
from tests.rules.factory import bundle, context

WITH_ARRIVAL = {**DEFAULT_REQUIRED_SETS, "I9610": [*DEFAULT_REQUIRED_SETS["I9610"], "arrival"]}


def test_the_defaults_do_not_wait_for_arrivals() -> None:
    assert all("arrival" not in kinds for kinds in DEFAULT_REQUIRED_SETS.values())
    assert evaluate(bundle(), context()).outcome is Outcome.RELEASE


def test_a_required_arrival_keeps_the_bundle_pending_until_it_arrives() -> None:
    docs = bundle()
    waiting = evaluate(docs, context(required_sets=WITH_ARRIVAL))
    assert waiting.outcome is Outcome.PENDING and waiting.missing == (Kind.ARRIVAL,)
    arrived = evaluate(docs, context(required_sets=WITH_ARRIVAL, arrived=True))
    assert arrived.outcome is Outcome.RELEASE and arrived.missing == ()


def test_at_the_deadline_the_finding_is_missing_arrival() -> None:
    result = evaluate(bundle(), context(required_sets=WITH_ARRIVAL, deadline_passed=True))
    assert result.outcome is Outcome.EXCEPTION
    assert result.codes == ("MISSING_ARRIVAL",)
    spec = RULES["MISSING_ARRIVAL"]
    assert spec.message_zh and spec.message_en and MISSING_CODES[Kind.ARRIVAL].value == spec.code


def test_required_sets_name_arrival_but_no_other_lifecycle_kind() -> None:
    view = classify(bundle())
    assert Kind.ARRIVAL in required_kinds(view, WITH_ARRIVAL)
    with pytest.raises(ValueError):
        required_kinds(view, {"I9610": ["order", "departure"]})
    assert Settings(required_sets={"E9610": ["order", "logistics", "inventory", "arrival"]})
    with pytest.raises(ValueError):
        Settings(required_sets={"E9610": ["order", "cancel"]})
