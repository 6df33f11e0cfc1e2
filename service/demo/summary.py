"""Export summary applications (汇总申请单 CEB701, SPEC §10) as the demo and the tests send
them: the ebc's (or its agent's) released export lists named by invtNo, or a period."""

from __future__ import annotations

from collections.abc import Sequence

from service.demo.compose import compose, new_guid

Fields = dict[str, str]


def summary_fields(
    ebc_code: str,
    ebc_name: str,
    *,
    guid: str | None = None,
    agent_code: str | None = None,
    agent_name: str | None = None,
    customs_code: str = "2924",
    cop_no: str | None = None,
    item_name_flag: bool = False,
    by_owner: bool = False,
    start: str | None = None,
    end: str | None = None,
    app_time: str = "20261203100000",
) -> Fields:
    """The SummaryApplyHead fields; the agent defaults to the ebc itself (it declares its
    own summary), the declaration agent (报关单位) to the agent."""
    agent = agent_code or ebc_code
    name = agent_name or ebc_name
    chosen = guid or new_guid()
    fields: Fields = {
        "guid": chosen,
        "appType": "1",
        "appTime": app_time,
        "appStatus": "2",
        "customsCode": customs_code,
        "copNo": cop_no or f"SUM{chosen[:8]}",
        "agentCode": agent,
        "agentName": name,
        "ebcCode": ebc_code,
        "ebcName": ebc_name,
        "declAgentCode": agent,
        "declAgentName": name,
        "summaryFlag": "2" if by_owner else "1",
        "itemNameFlag": "1" if item_name_flag else "0",
        "msgCount": "1",
        "msgSeqNo": "1",
    }
    if start is not None and end is not None:
        fields["startTime"], fields["endTime"] = start, end
    return fields


def summary_message(
    head: Fields, invt_nos: Sequence[str], cop_code: str, *, signed: bool = False
) -> bytes:
    """A CEB701 message holding one summary application naming ``invt_nos``."""
    lines = [{"invtNo": no} for no in invt_nos]
    return compose("CEB701Message", [(head, lines)], cop_code, signed=signed)
