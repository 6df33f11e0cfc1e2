"""Write examples/: one message of every type Sandan accepts, for the demo's enterprises.

    .venv/bin/python scripts/make_examples.py

Two import consignments (9610 and 1210) and two export ones (9610), dated 2026-12-01 so their
orderNos (SD20261201…, EX20261201…) are none of `sandan demo`'s (2026-11-11). Each bundle
message carries both consignments of its direction. The files are numbered in the order they
are sent:

- import: the bundle's four, the arrival (入库明细单) of both waybills, the first cancelled,
  the second returned;
- export: the bundle's four, the first cancelled; the second tied to a bill of lading (清单总分单),
  arrived (运抵单), departed (离境单: closed, 结关), summarised (汇总申请单), then returned.

Guids, copNos and times are fixed (guids derived from the file names), so running this again
writes the same files.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from pathlib import Path

from service.demo.compose import compose
from service.demo.consignments import DEMO_PARTIES, ROOTS, Consignment, clean_import, parts
from service.demo.exports import clean_export
from service.demo.lifecycle import cancel_fields, refund_fields, text_fields
from service.demo.movement import arrival_fields, departure_fields, master_bill_fields
from service.demo.summary import summary_fields
from service.messages.registry import BUNDLE_KINDS, Direction, Kind

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WHEN = datetime(2026, 12, 1, 9, 30, 0)
# The invtNo a lifecycle example names: Sandan assigns the real one when it accepts the
# inventory (`sandan send` prints it as key invtNo=…); replace this before sending. The export
# master bill and summary name the list by it too.
INVT_NO = {"I": "29242026I000000000", "E": "29242026E000000000"}
# The bills of lading the movement examples name (the demo's is SANDAN-DEMO-0001).
BILL_NO = {"I": "SANDAN-EXAMPLE-I001", "E": "SANDAN-EXAMPLE-E001"}
BUYERS = [
    ("周晓梅", "330106198804120021", "13905710001"),
    ("林志强", "310104199210150037", "13805710002"),
]
NAMES = {
    Kind.ORDER: "order",
    Kind.PAYMENT: "payment",
    Kind.LOGISTICS: "waybill",
    Kind.INVENTORY: "inventory",
}
SENDER = {
    Kind.ORDER: DEMO_PARTIES.platform.code,
    Kind.PAYMENT: DEMO_PARTIES.payment.code,
    Kind.LOGISTICS: DEMO_PARTIES.carrier.code,
    Kind.INVENTORY: DEMO_PARTIES.agent.code,
}


def guid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:sandan:examples:{name}")).upper()


def consignments(direction: str) -> list[Consignment]:
    if direction == "I":
        out = [
            clean_import(random.Random(n), n, regime=regime, when=WHEN, buyer=BUYERS[n - 1])
            for n, regime in ((1, "9610"), (2, "1210"))
        ]
    else:
        out = [clean_export(random.Random(n), n, regime="9610", when=WHEN) for n in (1, 2)]
    for n, c in enumerate(out, start=1):
        for kind in BUNDLE_KINDS:
            parts(c, kind)[0]["guid"] = guid(f"{direction}{n}-{kind.value}")
    return out


def write(name: str, body: bytes) -> None:
    path = EXAMPLES / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body + b"\n")
    print(path.relative_to(EXAMPLES.parent))


def fixed(head: dict[str, str], name: str, cop_no: str) -> dict[str, str]:
    """A movement head with the file's guid, copNo and time instead of fresh ones."""
    stamp = WHEN.strftime("%Y%m%d%H%M%S")
    head.update(guid=guid(f"{name}#head"), copNo=cop_no, appTime=stamp)
    if "leaveTime" in head:
        head["leaveTime"] = stamp
    return head


def bundles(direction: str, folder: str, pair: list[Consignment]) -> None:
    for step, kind in enumerate(BUNDLE_KINDS, start=1):
        root = ROOTS[(direction, kind)]
        name = f"{folder}/{step}-{NAMES[kind]}-{root.removesuffix('Message')}.xml"
        docs = [parts(c, kind) for c in pair]
        write(name, compose(root, docs, SENDER[kind], guid=guid(name)))


def cancel(direction: str, name: str, cancelled: Consignment) -> None:
    root = "CEB623Message" if direction == "I" else "CEB605Message"
    head = text_fields(cancelled.inventory)
    fields = cancel_fields(
        head, Direction(direction), guid=guid(f"{direction}-cancel"), invt_no=INVT_NO[direction]
    )
    write(name, compose(root, [(fields, [])], DEMO_PARTIES.ebc.code, guid=guid(name)))


def refund(direction: str, name: str, returned: Consignment) -> None:
    root = "CEB625Message" if direction == "I" else "CEB213Message"
    fields, lines = refund_fields(
        text_fields(returned.inventory),
        [text_fields(line) for line in returned.inventory_lines],
        Direction(direction),
        guid=guid(f"{direction}-return"),
        invt_no=INVT_NO[direction],
    )
    write(name, compose(root, [(fields, lines)], DEMO_PARTIES.agent.code, guid=guid(name)))


def imports() -> None:
    pair = consignments("I")
    bundles("I", "import", pair)
    carrier = DEMO_PARTIES.carrier
    name = "import/5-arrival-CEB711.xml"
    head, lines = arrival_fields(
        pair, (carrier.code, carrier.name), direction=Direction.IMPORT, bill_no=BILL_NO["I"]
    )
    head = fixed(head, name, "AEXAMPLEI0001")
    write(name, compose("CEB711Message", [(head, lines)], carrier.code, guid=guid(name)))
    cancel("I", "import/6-cancel-CEB623.xml", pair[0])
    refund("I", "import/7-return-CEB625.xml", pair[1])


def exports() -> None:
    """The second consignment goes from release to 结关 and into a summary."""
    cancelled, moved = consignments("E")
    bundles("E", "export", [cancelled, moved])
    cancel("E", "export/5-cancel-CEB605.xml", cancelled)
    agent, carrier, ebc = DEMO_PARTIES.agent, DEMO_PARTIES.carrier, DEMO_PARTIES.ebc
    name = "export/6-masterbill-CEB607.xml"
    head, lines = master_bill_fields(
        [moved], {moved.key: INVT_NO["E"]}, (agent.code, agent.name), bill_no=BILL_NO["E"]
    )
    head = fixed(head, name, "WEXAMPLEE0001")
    write(name, compose("CEB607Message", [(head, lines)], agent.code, guid=guid(name)))
    name = "export/7-arrival-CEB507.xml"
    head, lines = arrival_fields(
        [moved], (carrier.code, carrier.name), direction=Direction.EXPORT, bill_no=BILL_NO["E"]
    )
    head = fixed(head, name, "AEXAMPLEE0001")
    write(name, compose("CEB507Message", [(head, lines)], carrier.code, guid=guid(name)))
    name = "export/8-departure-CEB509.xml"
    head, lines = departure_fields([moved], bill_no=BILL_NO["E"])
    head = fixed(head, name, "DEXAMPLEE0001")
    write(name, compose("CEB509Message", [(head, lines)], carrier.code, guid=guid(name)))
    name = "export/9-summary-CEB701.xml"
    head = summary_fields(
        ebc.code,
        ebc.name,
        guid=guid(f"{name}#head"),
        cop_no="SUMEXAMPLE0001",
        app_time=WHEN.strftime("%Y%m%d%H%M%S"),
    )
    summary = [{"invtNo": INVT_NO["E"]}]
    write(name, compose("CEB701Message", [(head, summary)], ebc.code, guid=guid(name)))
    refund("E", "export/10-return-CEB213.xml", moved)


def main() -> None:
    for stale in EXAMPLES.glob("*/*.xml"):
        stale.unlink()
    imports()
    exports()


if __name__ == "__main__":
    main()
