"""The export summaries' answers (SPEC §10): one summary, and a proposal of one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from service.api.schemas.common import example
from service.messages.summary_result import build_summary_result

_LINE: dict[str, Any] = {
    "gcode": "6109100021",
    "gname": "棉制针织T恤衫",
    "country": "USA",
    "currency": "USD",
    "unit": "011",
    "qty": "36",
    "totalPrice": "431.64",
}
_INVENTORIES = ["29242026E000000001", "29242026E000000002"]
_SUMMARY: dict[str, Any] = {
    "sumNo": "29242026S000000001",
    "ebcCode": "3301970001",
    "inventories": _INVENTORIES,
    "lines": [_LINE],
}


class SummaryLine(BaseModel):
    """One group: the inventory lines of one 10-digit gcode, country, currency and unit
    (and gname, or owner, when the flags ask), their qty and totalPrice summed."""

    gcode: str = Field(description="the 10-digit commodity code")
    gname: str
    country: str = Field(description="destination country code")
    currency: str
    unit: str
    qty: str = Field(description="a decimal string, summed exactly")
    totalPrice: str = Field(description="a decimal string, summed exactly")


class Summary(BaseModel):
    model_config = example(_SUMMARY)
    sumNo: str = Field(description="the summary's number (汇总申请单编号)")
    ebcCode: str
    inventories: list[str] = Field(description="the invtNos the summary holds")
    lines: list[SummaryLine] = Field(description="the groups in gseqno order (group 1 first)")


class SummaryProposal(BaseModel):
    model_config = example(
        {
            "ebcCode": "3301970001",
            "from": "2026-11-11",
            "to": "2026-11-12",
            "inventories": _INVENTORIES,
            "lines": [_LINE],
        }
    )
    ebcCode: str
    since: str = Field(alias="from", description="YYYY-MM-DD as asked, Beijing time")
    until: str = Field(alias="to", description="YYYY-MM-DD as asked, inclusive")
    inventories: list[str] = Field(
        description="released or closed export retail lists of the period no summary holds"
    )
    lines: list[SummaryLine] = Field(description="the groups a CEB701 naming them would form")


def summary_xml_example() -> str:
    """The CEB792 of the ``Summary`` example, as ``GET /v1/summaries/{sumNo}`` builds it."""
    summary: dict[str, Any] = _SUMMARY
    head = {
        "customsCode": "2924",
        "agentCode": "3301980002",
        "agentName": "杭州报关代理有限公司",
        "ebcCode": summary["ebcCode"],
        "ebcName": "出口电商01",
        "declAgentCode": "3301980002",
        "declAgentName": "杭州报关代理有限公司",
        "grossWeight": "7.420",
        "netWeight": "6.380",
    }
    items = [
        {
            "invtNo": invt_no,
            "logisticsNo": f"EY26111100000000{n}",
            "gseqno": 1,
            "gnum": 1,
            "gcode": summary["lines"][0]["gcode"],
        }
        for n, invt_no in enumerate(summary["inventories"], start=1)
    ]
    at = datetime(2026, 11, 11, 2, 0, 1, tzinfo=UTC)
    return build_summary_result(summary["sumNo"], head, items, at).decode()
