"""Message types and official samples the codec tests iterate over."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from service.messages.registry import MESSAGE_TYPES, Direction, MessageType

EXPORT_TYPES: dict[str, MessageType] = {
    root: t for root, t in MESSAGE_TYPES.items() if t.direction is Direction.EXPORT
}
IMPORT_TYPES: dict[str, MessageType] = {
    root: t for root, t in MESSAGE_TYPES.items() if t.direction is Direction.IMPORT
}
ALL_TYPES: dict[str, MessageType] = dict(MESSAGE_TYPES)

# Official sample file stems per side that Sandan's schemas cover.
SAMPLES: dict[str, tuple[str, ...]] = {
    "import": (
        *("CEB311", "CEB411", "CEB511", "CEB621", "CEB312", "CEB412", "CEB512", "CEB622"),
        *("CEB623", "CEB625", "CEB624", "CEB626"),
        *("CEB711", "CEB712"),
    ),
    "export": (
        *("CEB303", "CEB403", "CEB505", "CEB603", "CEB304", "CEB404", "CEB506", "CEB604"),
        *("CEB605", "CEB213", "CEB606", "CEB214"),
        *("CEB701", "CEB702", "CEB792"),
        *("CEB507", "CEB508", "CEB607", "CEB608", "CEB509", "CEB510"),
    ),
}
# Official samples the official schema itself refuses, and why; ``repaired`` mends exactly that.
BROKEN_SAMPLES: dict[str, str] = {
    **dict.fromkeys(
        ("CEB303", "CEB403", "CEB505", "CEB603", "CEB605", "CEB507", "CEB607", "CEB509"),
        "repeats BaseTransfer",
    ),
    "CEB214": "root named CEB214 (not CEB214Message); RefundReturn carries appSenderId",
    "CEB792": "SummaryResultList lacks the required gseqno",
}


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_C = "{http://www.chinaport.gov.cn/ceb}"


def load(path: Path) -> etree._Element:
    return etree.parse(str(path), _PARSER).getroot()


def sample(reference_dir: Path, side: str, stem: str) -> etree._Element:
    return load(reference_dir / "samples" / side / f"{stem}Message.xml")


def repaired(root: etree._Element) -> etree._Element:
    """An official sample without the defects of ``BROKEN_SAMPLES``: a repeated
    ``BaseTransfer``, the root of CEB214 named without ``Message``, its undeclared
    ``appSenderId``, CEB792's missing ``gseqno`` (the group number, given as 1 after the
    logisticsNo). A sound sample comes back unchanged."""
    copy = etree.fromstring(etree.tostring(root))
    transfers = copy.findall(_C + "BaseTransfer")
    for extra in transfers[1:]:
        copy.remove(extra)
    if copy.tag == _C + "CEB214":
        copy.tag = _C + "CEB214Message"
        for stray in list(copy.iter(_C + "appSenderId")):
            parent = stray.getparent()
            assert parent is not None
            parent.remove(stray)
    for line in copy.iter(_C + "SummaryResultList"):
        waybill = line.find(_C + "logisticsNo")
        if line.find(_C + "gseqno") is None and waybill is not None:
            group = etree.Element(_C + "gseqno")
            group.text = "1"
            waybill.addnext(group)
    return copy
