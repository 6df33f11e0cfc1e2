"""Receipts (CEB312/412/512/622, CEB304/404/506/604): always schema-valid, even for bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from service.messages.documents import Pii, PiiKind
from service.messages.extract import extract_document
from service.messages.receipts import (
    MISSING,
    ReceiptItem,
    build_receipt,
    derive_pre_no,
    format_return_time,
    receipt_fields,
)
from service.messages.registry import CEB_NS, MESSAGE_TYPES, MessageType
from tests.messages.builders import C, document
from tests.messages.samples import ALL_TYPES, EXPORT_TYPES, sample

TIME = "20240301120000123"
GUID = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
# Every field any receipt echoes: a broken document may carry any of them, or none.
ECHOED = (
    "ebpCode",
    "ebcCode",
    "orderNo",
    "payCode",
    "payTransactionId",
    "logisticsCode",
    "logisticsNo",
    "customsCode",
    "agentCode",
    "copNo",
    "preNo",
    "invtNo",
    "payNo",
    "statisticsFlag",
)
TYPES = list(ALL_TYPES.values())


def ids(message_type: MessageType) -> str:
    return message_type.root


def receipt(message_type: MessageType, items: list[ReceiptItem]) -> etree._Element:
    body = build_receipt(message_type, items, TIME)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    return etree.fromstring(body)


def entries(root: etree._Element) -> list[dict[str, str]]:
    return [{etree.QName(c).localname: c.text or "" for c in entry} for entry in root]


def broken(message_type: MessageType, value: str | None, guid: str = GUID) -> etree._Element:
    """A document element with the head fields set to ``value`` (None: no fields at all)."""
    element = etree.Element(f"{C}{message_type.document}", nsmap={"ceb": CEB_NS})
    head = etree.SubElement(element, C + message_type.head) if message_type.head else element
    etree.SubElement(head, C + "guid").text = guid
    for name in ECHOED if value is not None else ():
        etree.SubElement(head, C + name).text = value
    return element


def protect(value: str, kind: PiiKind) -> Pii:
    return Pii("***", f"d{value}", None)


@pytest.mark.parametrize("message_type", list(MESSAGE_TYPES.values()), ids=ids)
def test_accepted_documents_are_echoed(
    our_schemas: dict[str, etree.XMLSchema], message_type: MessageType
) -> None:
    elements = [document(message_type.root, guid=f"{i:036d}") for i in range(3)]
    items = [ReceiptItem.from_element(message_type, e, "120", "") for e in elements]
    root = receipt(message_type, items)
    schema = our_schemas[message_type.schema]
    assert schema.validate(root), schema.error_log
    assert root.tag == f"{C}{message_type.receipt_root}" and root.prefix == "ceb"
    assert re.fullmatch(r"[0-9A-F-]{36}", root.get("guid", "")) and root.get("version") == "1.0"
    got = entries(root)
    assert [e["guid"] for e in got] == [f"{i:036d}" for i in range(3)]
    assert all(e["returnStatus"] == "120" and e["returnTime"] == TIME for e in got)
    assert got[0]["returnInfo"] == "海关入库"
    head = receipt_fields(message_type, elements[0])
    for name, value in got[0].items():
        if name in head and name not in ("preNo",):
            assert value == head[name], name


@pytest.mark.parametrize("message_type", list(MESSAGE_TYPES.values()), ids=ids)
def test_typed_documents_give_the_same_receipt(message_type: MessageType) -> None:
    element = document(message_type.root, lines=2)
    doc = extract_document(message_type, element, protect)
    from_doc = ReceiptItem.from_document(doc, "100", "rejected")
    from_element = ReceiptItem.from_element(message_type, element, "100", "rejected")
    assert from_doc == from_element
    first, second = (entries(receipt(message_type, [item])) for item in (from_doc, from_element))
    assert first == second


@pytest.mark.parametrize("value", [None, "", "X" * 1001, "1"], ids=["absent", "empty", "long", "1"])
@pytest.mark.parametrize("message_type", TYPES, ids=ids)
def test_broken_documents_still_get_a_valid_receipt(
    our_schemas: dict[str, etree.XMLSchema], message_type: MessageType, value: str | None
) -> None:
    items = [ReceiptItem.from_element(message_type, broken(message_type, value), "100", "x")]
    items.append(ReceiptItem("short-guid", {}, "-1", ""))
    root = receipt(message_type, items)
    schema = our_schemas[message_type.schema]
    assert schema.validate(root), schema.error_log


def test_fill_rules_for_a_rejected_inventory() -> None:
    inventory = MESSAGE_TYPES["CEB621Message"]
    item = ReceiptItem(GUID, {"orderNo": "O" * 30, "customsCode": "01", "invtNo": "X"}, "100", "")
    [got] = entries(receipt(inventory, [item]))
    assert got["copNo"] == "O" * 20  # the orderNo, cut to copNo's 20
    assert got["preNo"] == derive_pre_no(GUID) and len(got["preNo"]) == 18
    assert re.fullmatch(r"S[0-9A-F]{17}", got["preNo"])
    assert "customsCode" not in got and "invtNo" not in got and "ebpCode" not in got
    assert got["returnInfo"] == "海关退单"


def test_fitting_values_are_kept_as_sent() -> None:
    inventory = MESSAGE_TYPES["CEB621Message"]
    fields = {
        "customsCode": "0101",
        "ebpCode": "E1",
        "ebcCode": "E2",
        "agentCode": "E3",
        "copNo": "COP-1",
        "preNo": "B20160512000001882",
        "invtNo": "I" * 18,
    }
    [got] = entries(receipt(inventory, [ReceiptItem(GUID, fields, "2", "暂存")]))
    assert {k: got[k] for k in fields} == fields


def test_missing_required_codes_are_marked() -> None:
    order = MESSAGE_TYPES["CEB311Message"]
    [got] = entries(receipt(order, [ReceiptItem(GUID, {"orderNo": "O-1"}, "100", "x")]))
    assert got["ebpCode"] == got["ebcCode"] == MISSING and got["orderNo"] == "O-1"


def test_a_malformed_guid_gets_a_stable_stand_in() -> None:
    order = MESSAGE_TYPES["CEB311Message"]
    first, second = (
        entries(receipt(order, [ReceiptItem("bad", {}, "100", "x")]))[0]["guid"] for _ in range(2)
    )
    assert first == second and len(first) == 36 and first != "bad"


def test_return_info_is_cut_to_1000_characters() -> None:
    order = MESSAGE_TYPES["CEB311Message"]
    [got] = entries(receipt(order, [ReceiptItem(GUID, {}, "100", "错" * 1500)]))
    assert got["returnInfo"] == "错" * 1000


def test_export_inventory_receipt_fills_its_own_shape(
    our_schemas: dict[str, etree.XMLSchema],
) -> None:
    inventory = EXPORT_TYPES["CEB603Message"]
    root = receipt(inventory, [ReceiptItem(GUID, {"orderNo": "O-1"}, "120", "")])
    assert our_schemas["export"].validate(root)
    [got] = entries(root)
    assert list(got) == [
        "guid",
        "agentCode",
        "copNo",
        "preNo",
        "invtNo",
        "ebcCode",
        "ebpCode",
        "orderNo",
        "statisticsFlag",
        "returnStatus",
        "returnTime",
        "returnInfo",
    ]
    assert got["copNo"] == "O-1" and got["invtNo"] == "" and got["statisticsFlag"] == MISSING


@pytest.mark.parametrize(
    ("items", "time", "guid"),
    [
        ([], TIME, None),
        ([ReceiptItem(GUID, {}, "120", "x")] * 101, TIME, None),
        ([ReceiptItem(GUID, {}, "120", "x")], "2024030112000012", None),
        ([ReceiptItem(GUID, {}, "120", "x")], "2024030112000012a", None),
        ([ReceiptItem(GUID, {}, "", "x")], TIME, None),
        ([ReceiptItem(GUID, {}, "12345678901", "x")], TIME, None),
        ([ReceiptItem(GUID, {}, "120", "x")], TIME, "too-short"),
    ],
)
def test_impossible_receipts_are_programming_errors(
    items: list[ReceiptItem], time: str, guid: str | None
) -> None:
    with pytest.raises(ValueError):
        build_receipt(MESSAGE_TYPES["CEB311Message"], items, time, guid=guid)


def test_return_time_is_beijing_time_with_milliseconds() -> None:
    moment = datetime(2024, 3, 1, 16, 30, 5, 123_456, tzinfo=UTC)
    assert format_return_time(moment) == "20240302003005123"
    assert format_return_time(datetime(2024, 3, 1, 8, 0, 0, 7_000)) == "20240301080000007"


def test_receipt_fields_are_read_leniently() -> None:
    order = MESSAGE_TYPES["CEB311Message"]
    element = document("CEB311Message", orderNo=" O-1 ")
    head = element.find(f"{C}OrderHead")
    head.append(etree.fromstring(f'<ceb:orderNo xmlns:ceb="{CEB_NS}">second</ceb:orderNo>'))
    head.append(etree.fromstring('<ebpCode xmlns="urn:other">foreign</ebpCode>'))
    head.append(etree.Comment("a comment"))
    fields = receipt_fields(order, element)
    assert fields == {
        "guid": GUID,
        "orderNo": "O-1",
        "ebpCode": "1105910159",
        "ebcCode": "1105910160",
    }
    element.remove(head)
    assert receipt_fields(order, element) == {}


@pytest.mark.parametrize("side", ["import", "export"])
def test_receipts_for_official_samples_pass_the_official_schema(
    reference_dir: Path,
    official_schemas: dict[str, etree.XMLSchema],
    our_schemas: dict[str, etree.XMLSchema],
    side: str,
) -> None:
    for message_type in (t for t in TYPES if t.schema == side):
        root = sample(reference_dir, side, message_type.name)
        documents = root.findall(f"{C}{message_type.document}")
        items = [
            ReceiptItem.from_element(message_type, d, status, "")
            for d in documents
            for status in ("120", "100")
        ]
        items += [
            ReceiptItem.from_element(message_type, broken(message_type, v), "100", "bad")
            for v in (None, "X" * 1001)
        ]
        built = receipt(message_type, items[:100])
        assert official_schemas[side].validate(built), official_schemas[side].error_log
        assert our_schemas[side].validate(built)
        echoed = entries(built)[0]
        sent = receipt_fields(message_type, documents[0])
        assert echoed["guid"] == sent["guid"]
        key = {
            "OrderReturn": "orderNo",
            "PaymentReturn": "payTransactionId",
            "ReceiptsReturn": "orderNo",
            "LogisticsReturn": "logisticsNo",
            "InventoryReturn": "copNo",
            "InvtCancelReturn": "copNo",
            "InvtRefundReturn": "copNo",
            "RefundReturn": "coElNo",
            "SummaryReturn": "copNo",
            "DeliveryReturn": "copNo",
            "ArrivalReturn": "billNo",
            "WayBillReturn": "billNo",
            "DepartureReturn": "copNo",
        }[message_type.receipt_element]
        assert echoed[key] == sent[key]
