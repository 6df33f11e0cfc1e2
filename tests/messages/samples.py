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
    "import": ("CEB311", "CEB411", "CEB511", "CEB621", "CEB312", "CEB412", "CEB512", "CEB622"),
    "export": ("CEB303", "CEB403", "CEB505", "CEB603", "CEB304", "CEB404", "CEB506", "CEB604"),
}


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def load(path: Path) -> etree._Element:
    return etree.parse(str(path), _PARSER).getroot()


def sample(reference_dir: Path, side: str, stem: str) -> etree._Element:
    return load(reference_dir / "samples" / side / f"{stem}Message.xml")


def repaired(root: etree._Element) -> etree._Element:
    """An official export sample without its repeated ``BaseTransfer`` (the one known defect)."""
    copy = etree.fromstring(etree.tostring(root))
    transfers = copy.findall("{http://www.chinaport.gov.cn/ceb}BaseTransfer")
    for extra in transfers[1:]:
        copy.remove(extra)
    return copy
