"""From a schema-valid lxml document element to a typed ``Document``."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from lxml import etree

from service.messages.documents import DOCUMENT_TYPES, Document, Protector, field_kinds
from service.messages.registry import CEB_NS, MessageType

_PREFIX_LEN = len(CEB_NS) + 2


def _local(tag: Any) -> str | None:
    if not isinstance(tag, str) or not tag.startswith("{" + CEB_NS + "}"):
        return None
    return tag[_PREFIX_LEN:]


def _read_fields(element: etree._Element, cls: type[Any], protect: Protector) -> dict[str, Any]:
    specs = field_kinds(cls)
    values: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        spec = specs.get(name) if name else None
        if spec is None or name == "lines":
            continue
        text = (child.text or "").strip()
        if not text:
            continue
        pii_kind = spec.metadata.get("pii")
        target = spec.metadata.get("type")
        if pii_kind is not None:
            values[spec.name] = protect(text, pii_kind)
        elif target is Decimal:
            values[spec.name] = Decimal(text)
        elif target is int:
            values[spec.name] = int(text)
        else:
            values[spec.name] = text
    return values


def extract_document(
    message_type: MessageType, element: etree._Element, protect: Protector
) -> Document:
    """Typed document of one ``<Order>``/``<Payment>``/... element of ``message_type``."""
    cls = DOCUMENT_TYPES[message_type.kind]
    head = element
    if message_type.head is not None:
        found = element.find(f"{{{CEB_NS}}}{message_type.head}")
        if found is None:
            raise ValueError(f"{message_type.document} has no {message_type.head}")
        head = found
    values = _read_fields(head, cls, protect)
    values["direction"] = message_type.direction
    if message_type.lines is not None and cls.line_type is not None:
        values["lines"] = tuple(
            cls.line_type(**_read_fields(line, cls.line_type, protect))
            for line in element.iterfind(f"{{{CEB_NS}}}{message_type.lines}")
        )
    doc: Document = cls(**values)
    return doc


def content_digest(element: etree._Element) -> str:
    """A digest of a document's content that ignores formatting and namespace prefixes.

    Two sends of the same document with the same ``guid`` are a replay when this matches and a
    ``GUID_CONFLICT`` when it does not; indentation or a different prefix must not count.
    """
    h = hashlib.sha256()
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        h.update(node.tag.encode())
        h.update(b"\x00")
        if len(node) == 0:
            h.update((node.text or "").strip().encode())
        h.update(b"\x01")
    return h.hexdigest()


KEY_FIELDS = {
    "order": ("ebpCode", "orderNo"),
    "payment": ("payCode", "payTransactionId", "ebpCode", "orderNo"),
    "logistics": ("logisticsCode", "logisticsNo"),
    "inventory": ("ebpCode", "orderNo", "logisticsCode", "logisticsNo"),
}


def head_of(message_type: MessageType, element: etree._Element) -> etree._Element | None:
    if message_type.head is None:
        return element
    return element.find(f"{{{CEB_NS}}}{message_type.head}")


def lenient_fields(
    message_type: MessageType, element: etree._Element, names: tuple[str, ...]
) -> dict[str, str]:
    """Head field texts read without trusting the schema: for answering invalid documents."""
    head = head_of(message_type, element)
    out: dict[str, str] = {}
    if head is None:
        return out
    for name in names:
        text = head.findtext(f"{{{CEB_NS}}}{name}")
        if text is not None and text.strip():
            out[name] = text.strip()
    return out
