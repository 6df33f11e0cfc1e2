"""Example XML bodies of POST /v1/messages for /docs: one per supported message type.

Built by the demo's composer from the demo parties (``service.demo``), so each example is a
message ``sandan demo``'s keys may send and Sandan accepts, never a copy pasted by hand that
drifts from the schemas. The answer examples (CEB312...) are built from them by the same code
that builds real receipts.
"""

from __future__ import annotations

import random
from functools import lru_cache

from lxml import etree

from service.demo.consignments import ROOTS, Consignment, clean_import, sender_code
from service.demo.exports import clean_export
from service.demo.lifecycle import cancel_message, refund_message
from service.demo.movement import arrival_message, departure_message, master_bill_message
from service.demo.summary import summary_fields, summary_message
from service.messages.receipts import ReceiptItem, build_receipt
from service.messages.registry import BUNDLE_KINDS, CEB_NS, MESSAGE_TYPES, Kind

# The demo's 清单编号 shape (areaCode + year + I/E + sequence); any assigned number will do.
_INVT_NO = {"I": "29242026I000000001", "E": "29242026E000000001"}
_RETURN_TIME = "20261111000001123"


def _consignments() -> dict[str, Consignment]:
    return {
        "I": clean_import(random.Random(1), 1, regime="1210"),
        "E": clean_export(random.Random(1), 1),
    }


@lru_cache(maxsize=1)
def request_examples() -> dict[str, bytes]:
    """Message type (``CEB311Message``...) -> a one-document message of that type."""
    out: dict[str, bytes] = {}
    for direction, c in _consignments().items():
        for kind in BUNDLE_KINDS:
            out[ROOTS[(direction, kind)]] = c.message(kind)
        agent = sender_code(c, Kind.INVENTORY)
        cancel = cancel_message(c, _INVT_NO[direction], agent)
        refund = refund_message(c, _INVT_NO[direction], agent)
        out[_root(cancel)] = cancel
        out[_root(refund)] = refund
    out["CEB701Message"] = _summary(_consignments()["E"])
    out.update(_movement(_consignments()))
    return {name: out[name] for name in MESSAGE_TYPES if name in out}  # the registry's order


def _summary(c: Consignment) -> bytes:
    """A CEB701 from the export consignment's agent, naming its (made-up) invtNo."""
    head = c.inventory
    fields = summary_fields(
        head["ebcCode"],
        head["ebcName"],
        agent_code=head["agentCode"],
        agent_name=head["agentName"],
    )
    return summary_message(fields, [_INVT_NO["E"]], sender_code(c, Kind.INVENTORY))


def _movement(consignments: dict[str, Consignment]) -> dict[str, bytes]:
    """The arrivals (CEB711, CEB507, from the carrier as the site's operator), the export
    master bill (CEB607, from its agent) and the departure (CEB509, from the carrier)."""
    out: dict[str, bytes] = {}
    for c in consignments.values():
        carrier = (sender_code(c, Kind.LOGISTICS), "示例物流企业")
        arrival = arrival_message([c], carrier, bill_no="SANDAN-DOCS-B001")
        out[_root(arrival)] = arrival
    export = consignments["E"]
    agent = (export.inventory["agentCode"], export.inventory["agentName"])
    out["CEB607Message"] = master_bill_message(
        [export], {export.key: _INVT_NO["E"]}, agent, bill_no="SANDAN-DOCS-B001"
    )
    out["CEB509Message"] = departure_message([export], bill_no="SANDAN-DOCS-B001")
    return out


def _root(message: bytes) -> str:
    return str(etree.QName(etree.fromstring(message)).localname)


def receipt_example(message: bytes, return_status: str = "120") -> bytes:
    """The customs return message answering ``message``, every document ``return_status``."""
    root = etree.fromstring(message)
    mt = MESSAGE_TYPES[etree.QName(root).localname]
    items = [
        ReceiptItem.from_element(mt, element, return_status, "入库成功 accepted")
        for element in root.iterfind(f"{{{CEB_NS}}}{mt.document}")
    ]
    return build_receipt(mt, items, _RETURN_TIME)


@lru_cache(maxsize=1)
def openapi_examples() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The request body's examples and the XML answer's, in OpenAPI's ``examples`` form."""
    requests = request_examples()
    request = {
        name: {
            "summary": f"{name} ({MESSAGE_TYPES[name].direction.name.lower()} "
            f"{MESSAGE_TYPES[name].kind.value})",
            "value": body.decode(),
        }
        for name, body in requests.items()
    }
    answers = {
        MESSAGE_TYPES[name].receipt_root: {
            "summary": f"answer to {name} with Accept: application/xml",
            "value": receipt_example(body).decode(),
        }
        for name, body in requests.items()
    }
    return request, answers
