"""The Chinese field names of the review UI (service/web/labels.py) come from the annotations
our schemas keep, and those are the official 2022-05 ones, word for word."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.messages.registry import MESSAGE_TYPES
from service.messages.schema import DEFAULT_SCHEMAS_DIR
from service.web.labels import documentation, label, note, short_names


def _elements() -> set[tuple[str, str]]:
    """(schema, element) of every head and line element of the documents Sandan takes."""
    out = set()
    for t in MESSAGE_TYPES.values():
        out.add((t.schema, t.head or t.document))
        if t.lines:
            out.add((t.schema, t.lines))
    return out


def test_our_schemas_keep_the_official_annotations(reference_dir: Path) -> None:
    ours = documentation(DEFAULT_SCHEMAS_DIR)
    official = documentation(reference_dir / "xsd")
    assert ours, "our schemas lost their annotations"
    differing = {
        key: (text, official.get(key)) for key, text in ours.items() if official.get(key) != text
    }
    assert differing == {}
    # nothing of the documents we take lost its annotation either
    wanted = {key for key in official if (key[0], key[1]) in _elements()}
    assert wanted - set(ours) == set()


def test_every_field_of_every_document_has_a_short_name() -> None:
    docs = documentation(DEFAULT_SCHEMAS_DIR)
    names = short_names(docs)
    for key in docs:
        if (key[0], key[1]) in _elements():
            assert names[key], key
            assert len(names[key]) <= len(docs[key])


@pytest.mark.parametrize(
    ("kind", "field", "direction", "name"),
    [
        # the export schema's "name-description" form, used for import fields too
        ("order", "orderNo", "I", "订单编号"),
        ("order", "freight", "I", "运杂费"),
        ("order", "ebpCode", "E", "电商平台代码"),
        # a bare annotation
        ("payment", "amountPaid", "I", "支付金额"),
        # a short first clause
        ("logistics", "weight", "I", "毛重"),
        # lines, addressed as the bundle view addresses them
        ("inventory", "InventoryList[3].gname", "I", "商品名称"),
        ("order", "OrderList[1].qty", "I", "商品实际数量"),
        ("logistics", "logisticsNo", "E", "物流运单编号"),
        # a code list or an instruction is not a name: the other schema's name instead
        ("inventory", "ieFlag", "I", "进出口标志"),
        ("inventory", "tradeMode", "I", "贸易方式"),
    ],
)
def test_names_as_the_annotations_give_them(
    kind: str, field: str, direction: str, name: str
) -> None:
    assert label(kind, field, direction) == name
    assert note(kind, field, direction)  # the whole annotation, for the tooltip


def test_a_field_the_schema_does_not_know_has_no_name() -> None:
    assert label("order", "noSuchField", "I") == "" and note("order", "noSuchField", "I") == ""
