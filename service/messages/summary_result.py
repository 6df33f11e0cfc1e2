"""CEB792 汇总结果单 (SPEC §10): the summary result Sandan builds for an accepted CEB701,
as customs would send it.

The head names the summary (``sumNo``; the declaration's unified number ``declSeqNo`` is the
same number: one summary, one declaration), its parties as the application gave them, the
summed weights of its inventories and the processing time; ``decState`` is ``A``, as in the
official sample. Each ``SummaryResultList`` is one inventory line with the number
(``gseqno``) of the group it went into. Values are fitted to the official schema: an
optional application name missing is written as ``-``, a customs code that is not 4
characters as ``0000``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from service.messages.receipts import MISSING, RECEIPT_VERSION, format_return_time
from service.messages.registry import CEB_NS

ROOT = "CEB792Message"
DECLARED = "A"
_GUIDS = uuid.UUID("0b7f6f7c-5d0e-4d5e-9a57-4f1b2a9c7e21")
_C = f"{{{CEB_NS}}}"
_NAMES = ("agentName", "ebcName", "declAgentName")


def result_guid(sum_no: str) -> str:
    """The same guid for the same summary, whenever its CEB792 is rendered."""
    return str(uuid.uuid5(_GUIDS, sum_no)).upper()


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else str(value).strip()
    return text[:limit] or MISSING


def _weight(value: Any) -> str:
    amount = Decimal(str(value or 0)).quantize(Decimal("0.00001"))
    return format(amount.normalize(), "f") if amount else "0"


def build_summary_result(
    sum_no: str, head: Mapping[str, Any], items: Sequence[Mapping[str, Any]], at: datetime
) -> bytes:
    """The UTF-8 CEB792 of summary ``sum_no``: ``head`` as ``summaries.head`` keeps it,
    ``items`` the inventory lines with their gseqno, ``at`` when the summary was made."""
    root = etree.Element(
        _C + ROOT, guid=result_guid(sum_no), version=RECEIPT_VERSION, nsmap={"ceb": CEB_NS}
    )
    result = etree.SubElement(root, _C + "SummaryResult")
    values = etree.SubElement(result, _C + "SummaryResultHead")
    customs = str(head.get("customsCode") or "")
    fields: list[tuple[str, str]] = [
        ("guid", result_guid(sum_no)),
        ("customsCode", customs if len(customs) == 4 else "0000"),
        ("sumNo", sum_no),
        ("opDate", format_return_time(at)),
        ("declSeqNo", sum_no),
        ("decState", DECLARED),
        ("agentCode", _text(head.get("agentCode"), 18)),
        ("agentName", _text(head.get("agentName"), 100)),
        ("ebcCode", _text(head.get("ebcCode"), 18)),
        ("ebcName", _text(head.get("ebcName"), 100)),
        ("declAgentCode", _text(head.get("declAgentCode"), 18)),
        ("declAgentName", _text(head.get("declAgentName"), 100)),
        ("grossWeight", _weight(head.get("grossWeight"))),
        ("netWeight", _weight(head.get("netWeight"))),
        ("msgCount", "1"),
        ("msgSeqNo", "1"),
    ]
    for name, text in fields:
        etree.SubElement(values, _C + name).text = text
    for item in items:
        line = etree.SubElement(result, _C + "SummaryResultList")
        etree.SubElement(line, _C + "invtNo").text = str(item["invtNo"])[:20]
        etree.SubElement(line, _C + "logisticsNo").text = _text(item.get("logisticsNo"), 32)
        etree.SubElement(line, _C + "gseqno").text = str(int(item["gseqno"]))
        etree.SubElement(line, _C + "gnum").text = str(int(item["gnum"]))
        etree.SubElement(line, _C + "gcode").text = str(item["gcode"])
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
