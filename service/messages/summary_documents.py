"""The export summary application (汇总申请单, CEB701 ``SummaryApply``, SPEC §10).

An ebc, or the agent declaring for it, asks customs to summarise its released export lists
into the declaration it needs for the export VAT rebate (出口"清单核放、汇总统计"). The lines
name the lists by invtNo; a head time range (``startTime`` and ``endTime``) replaces them:
every eligible list of the ebc released in that period is taken, as the official schema says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from service.messages.records import Document, Record
from service.messages.registry import Direction, Kind


@dataclass(frozen=True, slots=True)
class SummaryApplyLine(Record):
    """One listed inventory (清单编号)."""

    invtNo: str = ""


@dataclass(frozen=True, slots=True)
class SummaryApply(Document):
    """汇总申请单: ``summaryFlag`` 1 summarises by the ebc alone, 2 by the ebc and each list's
    production and sales unit (ownerCode); ``itemNameFlag`` 1 keeps the lists' own item names
    apart."""

    kind: ClassVar[Kind] = Kind.SUMMARY
    line_type: ClassVar[type[Record] | None] = SummaryApplyLine

    direction: Direction = Direction.EXPORT
    customsCode: str | None = None
    copNo: str | None = None
    preNo: str | None = None
    sumNo: str | None = None
    agentCode: str | None = None
    agentName: str | None = None
    ebcCode: str = ""
    ebcName: str | None = None
    declAgentCode: str | None = None
    declAgentName: str | None = None
    startTime: str | None = None
    endTime: str | None = None
    loctNo: str | None = None
    summaryFlag: str | None = None
    itemNameFlag: str | None = None
    msgCount: str | None = None
    msgSeqNo: str | None = None
    lines: tuple[SummaryApplyLine, ...] = ()

    @property
    def by_period(self) -> bool:
        """Whether the head's time range replaces the lines."""
        return bool(self.startTime and self.endTime)

    @property
    def key(self) -> dict[str, str]:
        key = {"ebcCode": self.ebcCode}
        if self.copNo:
            key["copNo"] = self.copNo
        return key
