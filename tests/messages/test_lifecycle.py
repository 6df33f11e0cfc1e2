"""Cancels and returns (SPEC §10) in the codec: official samples to typed documents, and their
receipts (CEB624/626, CEB606/214, and the invtNo in CEB622/604) against the official schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from service.messages.documents import (
    DOCUMENT_TYPES,
    InvtCancel,
    InvtRefund,
    Pii,
    PiiKind,
    RefundLine,
    document_from_json,
)
from service.messages.extract import read_document
from service.messages.lenient import KEY_FIELDS
from service.messages.receipts import ReceiptItem, build_receipt, receipt_fields
from service.messages.registry import (
    BUNDLE_KINDS,
    MESSAGE_TYPES,
    Direction,
    Kind,
    MessageType,
    Role,
)
from service.rules.idcard import gb11643_valid
from service.security.pii import PiiProtector
from tests.messages.builders import C, document
from tests.messages.samples import repaired, sample

PROTECT = PiiProtector("lifecycle-test-key-0123456789abcdef", gb11643_valid)
TIME = "20240301120000123"
GUID = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
LIFECYCLE = {
    "CEB623Message": ("import", Kind.CANCEL, "CEB624Message", "InvtCancelReturn"),
    "CEB625Message": ("import", Kind.RETURN, "CEB626Message", "InvtRefundReturn"),
    "CEB605Message": ("export", Kind.CANCEL, "CEB606Message", "InvtCancelReturn"),
    "CEB213Message": ("export", Kind.RETURN, "CEB214Message", "RefundReturn"),
}
CLEAR = ("130681136250023332", "130681196203023331", "13936921298")


def _read(root: str, element: etree._Element) -> InvtCancel | InvtRefund:
    doc = read_document(MESSAGE_TYPES[root], element, PROTECT).document
    assert isinstance(doc, InvtCancel | InvtRefund)
    return doc


def _documents(reference_dir: Path, root: str) -> list[etree._Element]:
    side = LIFECYCLE[root][0]
    message = repaired(sample(reference_dir, side, root.removesuffix("Message")))
    return message.findall(C + MESSAGE_TYPES[root].document)


def _no_clear_personal_data(doc: InvtCancel | InvtRefund) -> None:
    text = json.dumps(doc.to_json(), ensure_ascii=False)
    assert not any(value in text for value in CLEAR)


@pytest.mark.parametrize("root", list(LIFECYCLE))
def test_registry_entries(root: str) -> None:
    message_type = MESSAGE_TYPES[root]
    side, kind, receipt_root, receipt_element = LIFECYCLE[root]
    assert (message_type.schema, message_type.kind) == (side, kind)
    assert (message_type.receipt_root, message_type.receipt_element) == (
        receipt_root,
        receipt_element,
    )
    assert message_type.roles == frozenset({Role.PLATFORM, Role.AGENT})
    assert message_type.party_fields == ("agentCode", "ebcCode")
    # the official import schema requires ds:Signature on CEB623/625; export has it optional
    assert message_type.must_be_signed is (side == "import")
    assert DOCUMENT_TYPES[kind].kind is kind
    assert kind not in BUNDLE_KINDS


def test_import_cancel_sample(reference_dir: Path) -> None:
    elements = _documents(reference_dir, "CEB623Message")
    docs = [_read("CEB623Message", e) for e in elements]
    assert len(docs) == 10 and all(type(d) is InvtCancel for d in docs)
    first = docs[0]
    assert first.direction is Direction.IMPORT
    assert (first.invtNo, first.orderNo, first.ebpCode, first.ebcCode) == (
        "150201613031520001",
        "order2016030811340001",
        "1101110325",
        "1101110325",
    )
    assert (first.customsCode, first.copNo, first.preNo) == (
        "3700",
        "NBBH20160308001",
        "B20160308000000001",
    )
    assert (first.agentCode, first.reason, first.note, first.appStatus) == (
        "1105910159",
        "a",
        None,
        "1",
    )
    assert (first.logisticsCode, first.logisticsNo) == ("1101180326", "L201603081138001")
    assert first.buyerIdNumber == PROTECT("130681136250023332", PiiKind.ID_NUMBER)
    assert isinstance(first.buyerTelephone, Pii) and "13936921298" not in str(first.buyerTelephone)
    assert first.key == {
        "invtNo": "150201613031520001",
        "ebpCode": "1101110325",
        "orderNo": "order2016030811340001",
    }
    assert docs[1].invtNo == "150201613031520002"
    _no_clear_personal_data(first)


def test_import_return_sample(reference_dir: Path) -> None:
    docs = [_read("CEB625Message", e) for e in _documents(reference_dir, "CEB625Message")]
    assert len(docs) == 10 and all(type(d) is InvtRefund for d in docs)
    first = docs[0]
    assert isinstance(first, InvtRefund)
    assert (first.invtNo, first.orderNo, first.ebpCode, first.ebcCode, first.agentCode) == (
        "15003213300400111",  # 17 characters in the sample: the schema allows up to 18
        "order20160317119400055",
        "1105910159",
        "1105910158",
        "1105910158",
    )
    assert first.buyerIdNumber == PROTECT("130681196203023331", PiiKind.ID_NUMBER)
    assert first.coElNo is None and first.billNo is None  # export fields
    assert first.lines == (
        RefundLine(gnum=1, gcode="2412342134", gname="可乐", qty=Decimal("12"), unit="007"),
    )
    assert first.key == {
        "invtNo": "15003213300400111",
        "ebpCode": "1105910159",
        "orderNo": "order20160317119400055",
    }
    _no_clear_personal_data(first)


def test_export_cancel_sample(reference_dir: Path) -> None:
    docs = [_read("CEB605Message", e) for e in _documents(reference_dir, "CEB605Message")]
    assert len(docs) == 10 and all(type(d) is InvtCancel for d in docs)
    first = docs[0]
    assert first.direction is Direction.EXPORT
    assert (first.invtNo, first.customsCode, first.copNo, first.reason) == (
        "Invt20180507000001",
        "1500",
        "Cop20180507001",
        "撤单原因",
    )
    assert (first.agentCode, first.ebcCode, first.note) == ("1105910159", "1105910159", "test")
    assert first.orderNo is None and first.ebpCode is None and first.buyerIdNumber is None
    assert first.key == {"invtNo": "Invt20180507000001"}


def test_export_return_sample(reference_dir: Path) -> None:
    docs = [_read("CEB213Message", e) for e in _documents(reference_dir, "CEB213Message")]
    assert len(docs) == 10 and all(type(d) is InvtRefund for d in docs)
    first = docs[0]
    assert isinstance(first, InvtRefund)
    assert first.direction is Direction.EXPORT
    assert (first.coElNo, first.invtNo, first.billNo, first.ieFlag) == (
        "back_26339801",
        "111222333",
        "78444192956",
        "I",
    )
    assert (first.trafMode, first.trafName, first.portCode, first.country, first.voyageNo) == (
        "5",
        "飞机",
        "5141",
        "303",
        "CZ465",
    )
    assert (first.logisticsNo, first.reason, first.orderNo, first.note) == (
        "3868076295380612",
        "客户取消订单",
        None,
        None,
    )
    [line] = first.lines
    assert (line.gnum, line.gcode, line.gmodel, line.qty, line.qty1, line.unit, line.unit1) == (
        1,
        "3926909090",
        "无牌，均码，塑料",
        Decimal("1"),
        Decimal("0.0475"),
        "011",
        "035",
    )
    assert line.qty2 is None and line.unit2 is None and line.note is None
    # an export return names no order: its key is the invtNo and the platform it carries
    assert first.key == {"invtNo": "111222333", "ebpCode": "1105910159"}
    assert [d.coElNo for d in docs if isinstance(d, InvtRefund)][:2] == [
        "back_26339801",
        "back_26339802",
    ]


@pytest.mark.parametrize("root", list(LIFECYCLE))
def test_documents_survive_the_store_round_trip(reference_dir: Path, root: str) -> None:
    for element in _documents(reference_dir, root):
        reading = read_document(MESSAGE_TYPES[root], element, PROTECT)
        doc = reading.document
        assert document_from_json(doc.kind, json.loads(json.dumps(doc.to_json()))) == doc
        assert reading.key == doc.key  # the lenient key of a valid document is the typed one
        assert list(reading.key) == [n for n in KEY_FIELDS[doc.kind.value] if n in doc.key]


@pytest.mark.parametrize("root", list(LIFECYCLE))
def test_stored_xml_masks_personal_data(reference_dir: Path, root: str) -> None:
    from service.engine.prepare import _masked_xml

    for element in _documents(reference_dir, root):
        reading = read_document(MESSAGE_TYPES[root], element, PROTECT)
        xml = _masked_xml(element, reading.personal)
        assert not any(value in xml for value in CLEAR)


# --- receipts --------------------------------------------------------------------------------


def _entries(body: bytes) -> list[dict[str, str]]:
    return [{etree.QName(c).localname: c.text or "" for c in e} for e in etree.fromstring(body)]


@pytest.mark.parametrize("root", list(LIFECYCLE))
def test_receipts_fit_the_official_schema(
    official_schemas: dict[str, etree.XMLSchema], root: str
) -> None:
    """Accepted (120), applied (399 审结) and rejected (100) documents, with the invtNo the
    engine puts into the item's fields, and a document with nothing readable."""
    message_type = MESSAGE_TYPES[root]
    element = document(root, lines=2)
    fields = receipt_fields(message_type, element)
    items = [
        ReceiptItem.from_element(message_type, element, "120", ""),
        ReceiptItem(fields["guid"], {**fields, "invtNo": "29242026I000000042"}, "399", ""),
        ReceiptItem("bad", {}, "100", "LIFECYCLE_UNKNOWN"),
    ]
    body = build_receipt(message_type, items, TIME)
    schema = official_schemas[message_type.schema]
    assert schema.validate(etree.fromstring(body)), schema.error_log
    accepted, applied, rejected = _entries(body)
    assert etree.QName(etree.fromstring(body)).localname == message_type.receipt_root
    assert applied["invtNo"] == "29242026I000000042" and applied["returnInfo"] == "海关审结"
    assert accepted["invtNo"] == fields["invtNo"]  # the document's own invtNo is echoed
    assert accepted["returnInfo"] == "海关入库" and rejected["returnStatus"] == "100"
    number = "coElNo" if message_type.receipt_element == "RefundReturn" else "copNo"
    assert accepted[number] == fields[number]


def test_import_lifecycle_receipts_leave_out_an_unusable_invt_no() -> None:
    for root in ("CEB623Message", "CEB625Message"):
        message_type = MESSAGE_TYPES[root]
        item = ReceiptItem(GUID, {"invtNo": "15003213300400111", "copNo": "C1"}, "100", "x")
        [got] = _entries(build_receipt(message_type, [item], TIME))
        assert "invtNo" not in got  # optional there, and exactly 18 characters when present
        assert list(got)[:5] == ["guid", "copNo", "preNo", "returnStatus", "returnTime"]


@pytest.mark.parametrize(("root", "required"), [("CEB621Message", False), ("CEB603Message", True)])
def test_inventory_receipts_carry_the_assigned_invt_no(
    official_schemas: dict[str, etree.XMLSchema], root: str, required: bool
) -> None:
    """SPEC §10: the invtNo Sandan assigns goes back in the CEB622 / CEB604 receipt, written
    where the official InventoryReturn has it (optional, 18 characters, on import; required,
    up to 20, on export)."""
    message_type: MessageType = MESSAGE_TYPES[root]
    fields = receipt_fields(message_type, document(root))
    invt_no = "29242026I000000007"
    items = [
        ReceiptItem(fields["guid"], {**fields, "invtNo": invt_no}, "800", ""),
        ReceiptItem(fields["guid"], fields, "120", ""),
    ]
    body = build_receipt(message_type, items, TIME)
    assert official_schemas[message_type.schema].validate(etree.fromstring(body))
    with_number, without = _entries(body)
    assert with_number["invtNo"] == invt_no
    names = list(with_number)
    assert names.index("invtNo") == names.index("preNo") + 1
    assert ("invtNo" in without) is required and without.get("invtNo", "") == ""
