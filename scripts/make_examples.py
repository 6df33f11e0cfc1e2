"""Write examples/: one message of every type Sandan accepts, for the demo's enterprises.

    .venv/bin/python scripts/make_examples.py

Two import consignments (9610 and 1210) and two export ones (9610), dated 2026-12-01 so their
orderNos (SD20261201…, EX20261201…) are none of `sandan demo`'s (2026-11-11). Each bundle
message carries both consignments of its direction; the first is cancelled, the second
returned. Guids are derived from the file names, so running this again writes the same files.
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
from service.messages.registry import BUNDLE_KINDS, Direction, Kind

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WHEN = datetime(2026, 12, 1, 9, 30, 0)
# The invtNo a lifecycle example names: Sandan assigns the real one when it accepts the
# inventory (`sandan send` prints it as key invtNo=…); replace this before sending.
INVT_NO = {"I": "29242026I000000000", "E": "29242026E000000000"}
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


def main() -> None:
    for direction, folder in (("I", "import"), ("E", "export")):
        pair = consignments(direction)
        for step, kind in enumerate(BUNDLE_KINDS, start=1):
            root = ROOTS[(direction, kind)]
            name = f"{folder}/{step}-{NAMES[kind]}-{root.removesuffix('Message')}.xml"
            docs = [parts(c, kind) for c in pair]
            write(name, compose(root, docs, SENDER[kind], guid=guid(name)))
        side = Direction(direction)
        cancelled, returned = pair
        head = text_fields(cancelled.inventory)
        cancel = cancel_fields(
            head, side, guid=guid(f"{direction}-cancel"), invt_no=INVT_NO[direction]
        )
        root = "CEB623Message" if direction == "I" else "CEB605Message"
        name = f"{folder}/5-cancel-{root.removesuffix('Message')}.xml"
        write(name, compose(root, [(cancel, [])], DEMO_PARTIES.ebc.code, guid=guid(name)))
        refund, lines = refund_fields(
            text_fields(returned.inventory),
            [text_fields(line) for line in returned.inventory_lines],
            side,
            guid=guid(f"{direction}-return"),
            invt_no=INVT_NO[direction],
        )
        root = "CEB625Message" if direction == "I" else "CEB213Message"
        name = f"{folder}/6-return-{root.removesuffix('Message')}.xml"
        write(name, compose(root, [(refund, lines)], DEMO_PARTIES.agent.code, guid=guid(name)))


if __name__ == "__main__":
    main()
