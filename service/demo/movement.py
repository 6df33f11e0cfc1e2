"""Arrivals (入库明细单 CEB711 import, 运抵单 CEB507 export), master bills (清单总分单 CEB607)
and departures (离境单 CEB509) for demo consignments, as the demo sends them (SPEC §10).

Each names the consignments' waybills under their carrier's logisticsCode; a master bill
also names each list by its invtNo and ties them to one bill of lading (``bill_no``); an
export arrival without lines (``whole_bill``) stands for every consignment of that bill. The
field functions return head and line dictionaries; the ``*_message`` functions wrap them in a
message (``compose``), which is signed when its type demands (CEB711).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from service.demo.compose import compose, new_guid
from service.demo.consignments import Consignment
from service.messages.registry import Direction

Fields = dict[str, str]


def _app_time(at: datetime | None) -> str:
    return (at or datetime.now()).strftime("%Y%m%d%H%M%S")


def _carrier(consignments: Sequence[Consignment]) -> tuple[str, str]:
    codes = {(c.logistics["logisticsCode"], c.logistics["logisticsName"]) for c in consignments}
    if len(codes) != 1:
        raise ValueError("a movement document names the waybills of one carrier")
    return next(iter(codes))


def _lines(
    consignments: Sequence[Consignment], invt_nos: Mapping[tuple[str, str], str] | None = None
) -> list[Fields]:
    lines = []
    for gnum, c in enumerate(consignments, start=1):
        line = {"gnum": str(gnum), "logisticsNo": str(c.logistics["logisticsNo"])}
        if invt_nos is not None:
            line["invtNo"] = invt_nos[c.key]
        lines.append(line)
    return lines


def _customs_code(consignments: Sequence[Consignment]) -> str:
    return str(consignments[0].inventory.get("customsCode") or "2924") if consignments else "2924"


def arrival_fields(
    consignments: Sequence[Consignment],
    operator: tuple[str, str],
    *,
    direction: Direction,
    bill_no: str,
    logistics: tuple[str, str] | None = None,
    whole_bill: bool = False,
    at: datetime | None = None,
) -> tuple[Fields, list[Fields]]:
    """An arrival of ``consignments`` (their waybills) reported by ``operator`` (code, name):
    the import 入库明细单's head and lines, or the export 运抵单's (no lines for
    ``whole_bill``)."""
    code, name = logistics or _carrier(consignments)
    head: Fields = {
        "guid": new_guid(),
        "appType": "1",
        "appTime": _app_time(at),
        "appStatus": "2",
        "customsCode": _customs_code(consignments),
        "copNo": f"A{new_guid()[:12]}",
        "operatorCode": operator[0],
        "operatorName": operator[1],
        "ieFlag": direction.value,
        "trafMode": "5",
        "billNo": bill_no,
        "logisticsCode": code,
        "logisticsName": name,
    }
    if direction is Direction.IMPORT:
        head.update(trafNo="CZ465", voyageNo="CZ465")
        return head, _lines(consignments)
    head.update(domesticTrafNo="浙A12345", msgCount="1", msgSeqNo="1")
    return head, [] if whole_bill else _lines(consignments)


def master_bill_fields(
    consignments: Sequence[Consignment],
    invt_nos: Mapping[tuple[str, str], str],
    agent: tuple[str, str],
    *,
    bill_no: str,
    at: datetime | None = None,
) -> tuple[Fields, list[Fields]]:
    """A 清单总分单 tying the export lists ``invt_nos`` (consignment key -> invtNo) of
    ``consignments`` to ``bill_no``, declared by ``agent`` (code, name)."""
    code, name = _carrier(consignments)
    head: Fields = {
        "guid": new_guid(),
        "appType": "1",
        "appTime": _app_time(at),
        "appStatus": "2",
        "customsCode": _customs_code(consignments),
        "copNo": f"W{new_guid()[:12]}",
        "agentCode": agent[0],
        "agentName": agent[1],
        "trafMode": "5",
        "trafName": "飞机",
        "voyageNo": "CZ465",
        "billNo": bill_no,
        "grossWeight": "1.5",
        "logisticsCode": code,
        "logisticsName": name,
        "msgCount": "1",
        "msgSeqNo": "1",
    }
    return head, _lines(consignments, invt_nos)


def departure_fields(
    consignments: Sequence[Consignment],
    *,
    bill_no: str | None = None,
    at: datetime | None = None,
) -> tuple[Fields, list[Fields]]:
    """A 离境单 of ``consignments``' waybills, reported by their carrier."""
    code, name = _carrier(consignments)
    head: Fields = {
        "guid": new_guid(),
        "appType": "1",
        "appTime": _app_time(at),
        "appStatus": "2",
        "customsCode": _customs_code(consignments),
        "copNo": f"D{new_guid()[:12]}",
        "logisticsCode": code,
        "logisticsName": name,
        "trafMode": "5",
        "trafName": "飞机",
        "voyageNo": "CZ465",
        "leaveTime": _app_time(at),
        "msgCount": "1",
        "msgSeqNo": "1",
    }
    if bill_no:
        head["billNo"] = bill_no
    return head, _lines(consignments)


def arrival_message(
    consignments: Sequence[Consignment],
    operator: tuple[str, str],
    *,
    bill_no: str,
    direction: Direction | None = None,
    logistics: tuple[str, str] | None = None,
    whole_bill: bool = False,
) -> bytes:
    """A CEB711 (import) or CEB507 (export) message; the direction is the consignments'."""
    side = direction or Direction(consignments[0].direction)
    head, lines = arrival_fields(
        consignments,
        operator,
        direction=side,
        bill_no=bill_no,
        logistics=logistics,
        whole_bill=whole_bill,
    )
    root = "CEB711Message" if side is Direction.IMPORT else "CEB507Message"
    return compose(root, [(head, lines)], operator[0])


def master_bill_message(
    consignments: Sequence[Consignment],
    invt_nos: Mapping[tuple[str, str], str],
    agent: tuple[str, str],
    *,
    bill_no: str,
) -> bytes:
    head, lines = master_bill_fields(consignments, invt_nos, agent, bill_no=bill_no)
    return compose("CEB607Message", [(head, lines)], agent[0])


def departure_message(consignments: Sequence[Consignment], *, bill_no: str | None = None) -> bytes:
    head, lines = departure_fields(consignments, bill_no=bill_no)
    return compose("CEB509Message", [(head, lines)], head["logisticsCode"])
