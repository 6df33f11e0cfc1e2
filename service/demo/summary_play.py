"""The demo's export summary (汇总申报, SPEC §10): after the cancels and returns, the ebc asks
Sandan which of its released export lists it could summarise today (the proposal), sends one
CEB701 naming them, and reads back the summary Sandan built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from service.demo.consignments import DEMO_PARTIES
from service.demo.summary import summary_fields, summary_message
from service.messages.receipts import CUSTOMS_TZ

# The platform's key acts for its ebc, which declares its own summary.
SUMMARY_ROLE = "platform"
EBC = DEMO_PARTIES.ebc


@dataclass(frozen=True, slots=True)
class SummaryDone:
    """What the demo's summary became: refused (errors), or its sumNo and groups."""

    proposed: list[str]
    status: str
    errors: list[str]
    sum_no: str | None
    lines: list[dict[str, Any]]

    def describe(self) -> str:
        if not self.proposed:
            return "no released export list to summarise"
        if self.status != "accepted":
            return f"summary of {len(self.proposed)} lists: {self.status} {' '.join(self.errors)}"
        return (
            f"summary {self.sum_no}: {len(self.proposed)} export lists in {len(self.lines)} "
            "lines (by 10-digit gcode, country, currency, unit)"
        )


async def play_summary(url: str, keys: dict[str, str]) -> SummaryDone:
    today = datetime.now(CUSTOMS_TZ).date().isoformat()
    headers = {"Authorization": f"Bearer {keys[SUMMARY_ROLE]}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.get(
            "/v1/summaries/proposal",
            params={"ebcCode": EBC.code, "from": today, "to": today},
            headers=headers,
        )
        response.raise_for_status()
        proposed = list(response.json()["inventories"])
        if not proposed:
            return SummaryDone([], "none", [], None, [])
        body = summary_message(summary_fields(EBC.code, EBC.name), proposed, EBC.code)
        answer = await client.post(
            "/v1/messages",
            content=body,
            headers={**headers, "Content-Type": "application/xml"},
        )
        answer.raise_for_status()
        (document,) = answer.json()["documents"]
        sum_no = document["key"].get("sumNo")
        errors = [e["code"] for e in document.get("errors", ())]
        if sum_no is None:
            return SummaryDone(proposed, document["status"], errors, None, [])
        summary = await client.get(f"/v1/summaries/{sum_no}", headers=headers)
        summary.raise_for_status()
        return SummaryDone(proposed, document["status"], errors, sum_no, summary.json()["lines"])
