"""Message types and official samples the codec tests iterate over.

The registry only knows the import types so far; the export shapes are spelled out here so the
schemas, the checker and the receipts can already be tested on the export side.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from service.messages.registry import MESSAGE_TYPES, Direction, Kind, MessageType, Role

_NONE: frozenset[Role] = frozenset()

EXPORT_TYPES: dict[str, MessageType] = {
    t.root: t
    for t in (
        MessageType(
            "CEB303Message",
            Kind.ORDER,
            Direction.EXPORT,
            "export",
            "Order",
            "OrderHead",
            "OrderList",
            "CEB304Message",
            "OrderReturn",
            _NONE,
            ("ebpCode",),
        ),
        MessageType(
            "CEB403Message",
            Kind.PAYMENT,
            Direction.EXPORT,
            "export",
            "Receipts",
            None,
            None,
            "CEB404Message",
            "ReceiptsReturn",
            _NONE,
            ("ebcCode",),
        ),
        MessageType(
            "CEB505Message",
            Kind.LOGISTICS,
            Direction.EXPORT,
            "export",
            "Logistics",
            None,
            None,
            "CEB506Message",
            "LogisticsReturn",
            _NONE,
            ("logisticsCode",),
        ),
        MessageType(
            "CEB603Message",
            Kind.INVENTORY,
            Direction.EXPORT,
            "export",
            "Inventory",
            "InventoryHead",
            "InventoryList",
            "CEB604Message",
            "InventoryReturn",
            _NONE,
            ("agentCode", "ebcCode"),
        ),
    )
}
IMPORT_TYPES: dict[str, MessageType] = dict(MESSAGE_TYPES)
ALL_TYPES: dict[str, MessageType] = {**IMPORT_TYPES, **EXPORT_TYPES}

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
