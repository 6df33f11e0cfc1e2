"""The generator's traffic: every planned document exactly once, valid, grouped as asked."""

from __future__ import annotations

from collections import Counter

import pytest

from loadtest.traffic import TrafficConfig, applicable_mistakes, document_count, messages, plan
from service.messages.parse import parse_message
from service.messages.registry import BUNDLE_KINDS, Kind, message_type_for
from service.messages.schema import SchemaChecker


def test_every_document_is_sent_once_in_shuffled_order() -> None:
    config = TrafficConfig(consignments=60, spread=20, seed=3)
    planned = plan(config)
    sent = [doc for m in messages(config, planned) for doc in m.documents]
    assert Counter(sent) == Counter((p.index, k) for p in planned for k in p.kinds)
    assert len(sent) == document_count(planned)
    # spread: some consignment's documents are interleaved with another's
    first_kinds = [kind for _, kind in sent[:40]]
    assert first_kinds != sorted(first_kinds)
    assert [i for i, _ in sent] != sorted(i for i, _ in sent)


def test_variants_and_kinds_follow_the_regimes() -> None:
    planned = plan(TrafficConfig(consignments=400, seed=5))
    variants = {(p.direction, p.regime) for p in planned}
    assert variants == {
        ("I", "9610"),
        ("I", "1210"),
        ("E", "9610"),
        ("E", "1210"),
        ("E", "9710"),
        ("E", "9810"),
    }
    for p in planned:
        if (p.direction, p.regime) == ("E", "9810"):
            assert Kind.PAYMENT not in p.kinds
            assert p.required == {Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY}
        else:
            assert set(p.kinds) == set(BUNDLE_KINDS)


def test_mismatch_share_and_explicit_shares() -> None:
    planned = plan(TrafficConfig(consignments=2000, mismatch_share=0.5, seed=1))
    mistaken = sum(p.mistake is not None for p in planned)
    assert 850 < mistaken < 1150
    for p in planned:
        assert p.mistake is None or p.mistake in applicable_mistakes(p.direction, p.regime)
    only = plan(TrafficConfig(consignments=500, mismatch_shares={"REGIME_MISMATCH": 0.2}, seed=2))
    assert {p.mistake for p in only} == {None, "REGIME_MISMATCH"}


def test_mistakes_that_only_surface_at_the_deadline_are_not_planned() -> None:
    assert "INVENTORY_LOGISTICS" not in applicable_mistakes("E", "9610")
    assert not [c for c in applicable_mistakes("E", "1210") if c.startswith("MISSING_")]
    with pytest.raises(ValueError):
        TrafficConfig(consignments=1, mismatch_shares={"MISSING_LOGISTICS": 0.1})


@pytest.mark.parametrize("per_message", [1, 7, 100])
def test_messages_are_schema_valid_and_grouped_by_kind(per_message: int) -> None:
    config = TrafficConfig(consignments=80, docs_per_message=per_message, first_number=10**11)
    planned = plan(config)
    checker = SchemaChecker()
    sizes = []
    for message in messages(config, planned):
        root = parse_message(message.body, 10 * 2**20)
        message_type = message_type_for(str(root.tag))
        assert message_type is not None and message_type.kind is message.kind
        check = checker.check(message_type, root)
        assert not check.errors
        assert len(check.documents) == len(message.documents)
        assert {kind for _, kind in message.documents} == {message.kind}
        assert len({planned[i].direction for i, _ in message.documents}) == 1
        sizes.append(len(message.documents))
    assert max(sizes) == min(per_message, max(sizes))
    assert all(size <= per_message for size in sizes)


def test_the_same_seed_plays_the_same_consignments() -> None:
    config = TrafficConfig(consignments=30, seed=9)
    a, b = plan(config), plan(config)
    list(messages(config, a))
    list(messages(config, b))
    assert [(p.key, p.mistake, p.kinds) for p in a] == [(p.key, p.mistake, p.kinds) for p in b]
