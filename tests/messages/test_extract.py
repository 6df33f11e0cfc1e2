"""From schema-valid document elements to typed documents (Decimal money, protected PII)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from service.messages.documents import (
    Inventory,
    Logistics,
    Order,
    Payment,
    Pii,
    PiiKind,
    document_from_json,
)
from service.messages.extract import content_digest, extract_document
from service.messages.registry import CEB_NS, MESSAGE_TYPES, Direction
from tests.messages.builders import C, document
from tests.messages.samples import ALL_TYPES, SAMPLES, sample

ORDER = MESSAGE_TYPES["CEB311Message"]


def protect(value: str, kind: PiiKind) -> Pii:
    """A stand-in protector: visibly masked, digest without the clear value."""
    return Pii(f"{kind.value}:***{value[-2:]}", f"digest-{len(value)}-{value[-1]}", None)


def documents_of(root: etree._Element, stem: str) -> list[etree._Element]:
    return list(root.findall(f"{{{CEB_NS}}}{ALL_TYPES[stem + 'Message'].document}"))


def test_amounts_are_exact_decimals() -> None:
    order = extract_document(ORDER, document("CEB311Message", lines=2), protect)
    assert isinstance(order, Order)
    assert order.goodsValue == Decimal("100.50") and str(order.goodsValue) == "100.50"
    assert order.acturalPaid == Decimal("119.60")
    assert order.direction is Direction.IMPORT
    assert [line.gnum for line in order.lines] == [1, 2]
    assert order.lines[0].price == Decimal("50.25")
    assert order.key == {"ebpCode": "1105910159", "orderNo": "O-1"}


def test_personal_data_is_protected() -> None:
    order = extract_document(ORDER, document("CEB311Message"), protect)
    assert isinstance(order, Order)
    assert order.buyerIdNumber == protect("11010519491231002X", PiiKind.ID_NUMBER)
    assert str(order.buyerIdNumber) == "id:***2X"
    assert str(order.buyerTelephone) == "phone:***00"
    text = json.dumps(order.to_json(), ensure_ascii=False)
    assert "11010519491231002X" not in text and "13800138000" not in text


def test_empty_and_absent_optional_fields_are_none() -> None:
    element = document("CEB311Message", payCode=None)
    etree.SubElement(element.find(f"{C}OrderHead"), f"{C}note")
    order = extract_document(ORDER, element, protect)
    assert isinstance(order, Order)
    assert order.payCode is None and order.note is None and order.discount == Decimal("0")


def test_a_document_without_its_head_is_refused() -> None:
    element = document("CEB311Message")
    element.remove(element.find(f"{C}OrderHead"))
    with pytest.raises(ValueError, match="OrderHead"):
        extract_document(ORDER, element, protect)


def test_extracted_documents_survive_the_store_round_trip() -> None:
    # The engine judges the extracted document of a batch it has just stored without reading
    # it back (engine.decoded): the stored JSON must give back exactly the same document.
    for root in ALL_TYPES:
        doc = extract_document(MESSAGE_TYPES[root], document(root, lines=2), protect)
        assert document_from_json(doc.kind, json.loads(json.dumps(doc.to_json()))) == doc


def test_official_import_samples_extract(reference_dir: Path) -> None:
    orders = [
        extract_document(ORDER, e, protect)
        for e in documents_of(sample(reference_dir, "import", "CEB311"), "CEB311")
    ]
    assert len(orders) == 6
    first = orders[0]
    assert isinstance(first, Order)
    assert (first.goodsValue, first.freight, first.taxTotal, first.acturalPaid) == (
        Decimal("14000"),
        Decimal("5000"),
        Decimal("50"),
        Decimal("19050"),
    )
    assert first.buyerIdNumber == protect("130681136250023332", PiiKind.ID_NUMBER)
    assert [(line.gnum, line.qty, line.price) for line in first.lines] == [
        (1, Decimal("100"), Decimal("20")),
        (2, Decimal("200"), Decimal("10")),
    ]
    assert first.lines[0].note is None  # <ceb:note></ceb:note> in the sample

    payment = extract_document(
        MESSAGE_TYPES["CEB411Message"],
        documents_of(sample(reference_dir, "import", "CEB411"), "CEB411")[0],
        protect,
    )
    assert isinstance(payment, Payment)
    assert payment.amountPaid == Decimal("19050") and payment.key["payCode"] == "1101110323"

    waybill = extract_document(
        MESSAGE_TYPES["CEB511Message"],
        documents_of(sample(reference_dir, "import", "CEB511"), "CEB511")[0],
        protect,
    )
    assert isinstance(waybill, Logistics)
    assert waybill.orderNo == "order20160321116421002" and waybill.packNo == 6000

    inventory = extract_document(
        MESSAGE_TYPES["CEB621Message"],
        documents_of(sample(reference_dir, "import", "CEB621"), "CEB621")[0],
        protect,
    )
    assert isinstance(inventory, Inventory)
    assert inventory.tradeMode == "9610" and len(inventory.lines) == 2
    assert inventory.lines[0].gcode is not None and isinstance(inventory.lines[0].qty1, Decimal)


@pytest.mark.parametrize(
    "stem", [s for s in SAMPLES["export"] if s in ("CEB303", "CEB403", "CEB505", "CEB603")]
)
def test_official_export_samples_extract(reference_dir: Path, stem: str) -> None:
    message_type = ALL_TYPES[stem + "Message"]
    docs = [
        extract_document(message_type, e, protect)
        for e in documents_of(sample(reference_dir, "export", stem), stem)
    ]
    assert len(docs) == 10
    assert all(d.direction is Direction.EXPORT and d.kind is message_type.kind for d in docs)
    first = docs[0]
    if isinstance(first, Payment):  # 收款单: the document element carries the fields itself
        assert first.charge == Decimal("200.50") and first.payNo == "P20180507001"
    if isinstance(first, Logistics):
        assert first.orderNo is None and first.grossWeight == Decimal("50.50")
    if isinstance(first, Order):
        assert first.orderType == "E" and first.goodsValue == Decimal("12345678912345.12345")
    if isinstance(first, Inventory):
        assert first.statisticsFlag == "A" and len(first.lines) == 1


def test_content_digest_ignores_prefixes_and_layout() -> None:
    element = document("CEB311Message")
    plain = etree.tostring(element)
    pretty = (
        etree.tostring(element, pretty_print=True)
        .replace(b"ceb:", b"c:")
        .replace(b"xmlns:ceb=", b"xmlns:c=")
    )
    assert content_digest(etree.fromstring(plain)) == content_digest(etree.fromstring(pretty))
    changed = document("CEB311Message", orderNo="O-2")
    assert content_digest(changed) != content_digest(element)
