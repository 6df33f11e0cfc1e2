"""From a schema-valid lxml document element to all that intake keeps of it, in one pass.

Intake needs five things of each document: its key and receipt fields (read leniently), the
typed ``Document``, the content digest and the personal-data elements to mask in the stored
XML. Read separately they cost several walks of the tree, two ``Pii`` per personal value
and a hash update per piece; here one walk over the document's elements, against a tag
table built once per message type, gives all of them:

- typed fields: direct children of the (first) head, and of each line; a later non-empty
  element of a name overrides an earlier one, an empty one counts as absent;
- lenient fields (key, receipt): the first element of each name, as ``messages.lenient``
  reads them, so a valid document is answered as its lenient read would answer it;
- the digest input, every element in document order (see ``content_digest``);
- each personal-data element anywhere in the document, with its ``Pii``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree

from service.messages.construct import defaults, maker
from service.messages.documents import DOCUMENT_TYPES, Document, Pii, PiiKind, Protector
from service.messages.lenient import KEY_FIELDS
from service.messages.receipts import receipt_sources
from service.messages.registry import CEB_NS, MessageType

_C = f"{{{CEB_NS}}}"

# Elements holding personal data, wherever they appear; masked in the stored raw XML.
PII_ELEMENTS: dict[str, PiiKind] = {
    "buyerIdNumber": PiiKind.ID_NUMBER,
    "payerIdNumber": PiiKind.ID_NUMBER,
    "buyerTelephone": PiiKind.PHONE,
    "consigneeTelephone": PiiKind.PHONE,
    "telephone": PiiKind.PHONE,
    "ebcTelephone": PiiKind.PHONE,
}
_PII_TAGS: dict[str, PiiKind] = {_C + name: kind for name, kind in PII_ELEMENTS.items()}

# A personal-data element of the document: the element, its text, its masked text.
Personal = tuple[etree._Element, str, str]


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a child tag of a head or line is to the reader."""

    index: int | None  # position among the record's fields; None: not a field of it
    convert: Callable[[str], Any] | None  # Decimal or int; None: the text itself
    pii: PiiKind | None  # a personal field: its value is the Pii
    mask: PiiKind | None  # a personal-data element: masked in the stored XML
    lenient: str | None  # read leniently (key or receipt field) under this name


# (index, convert, pii, mask, lenient): unpacking a tuple is what the per-element loop can
# afford; ``_Entry`` names the parts where the table is built.
_Row = tuple[int | None, Callable[[str], Any] | None, PiiKind | None, PiiKind | None, str | None]


def _table(cls: type[Any], lenient: tuple[str, ...]) -> dict[str, int | _Row]:
    """Clark tag -> row, for the children of a block read into ``cls``.

    A field read as its text alone and nowhere else (most of them) is just its index.
    """
    entries: dict[str, _Entry] = {}
    for index, f in enumerate(fields(cls)):
        if f.name in ("direction", "lines"):  # set from the message type and the lines
            continue
        target = f.metadata.get("type")
        entries[f.name] = _Entry(
            index,
            target if target in (Decimal, int) else None,
            f.metadata.get("pii"),
            PII_ELEMENTS.get(f.name),
            None,
        )
    for name in (*lenient, *PII_ELEMENTS):
        entry = entries.get(name, _Entry(None, None, None, PII_ELEMENTS.get(name), None))
        if name in lenient:
            entry = _Entry(entry.index, entry.convert, entry.pii, entry.mask, name)
        entries[name] = entry
    table: dict[str, int | _Row] = {}
    for name, e in entries.items():
        special = (e.convert, e.pii, e.mask, e.lenient)
        if e.index is not None and all(part is None for part in special):
            table[_C + name] = e.index
        else:
            table[_C + name] = (e.index, *special)
    return table


@dataclass(frozen=True, slots=True)
class _Layout:
    """How one message type's documents are read; built once per message type."""

    head_tag: str | None  # None: the document element holds the head fields itself
    lines_tag: str | None
    head: dict[str, int | _Row]
    line: dict[str, int | _Row]
    head_defaults: list[Any]
    line_defaults: list[Any]
    make: Callable[..., Any]
    make_line: Callable[..., Any] | None
    direction_index: int
    lines_index: int | None
    key_names: tuple[str, ...]
    receipt_names: tuple[str, ...]


@cache
def _layout(message_type: MessageType) -> _Layout:
    cls = DOCUMENT_TYPES[message_type.kind]
    key_names = KEY_FIELDS[message_type.kind.value]
    receipt_names = receipt_sources(message_type)
    names = [f.name for f in fields(cls)]
    line_type = cls.line_type if message_type.lines is not None else None
    if line_type is not None and message_type.head is None:
        raise ValueError(f"{message_type.root}: lines are read beside a head element")
    return _Layout(
        head_tag=None if message_type.head is None else _C + message_type.head,
        lines_tag=None if line_type is None else _C + str(message_type.lines),
        head=_table(cls, (*key_names, *receipt_names)),
        line=_table(line_type, ()) if line_type is not None else {},
        head_defaults=defaults(cls),
        line_defaults=defaults(line_type) if line_type is not None else [],
        make=maker(cls),
        make_line=maker(line_type) if line_type is not None else None,
        direction_index=names.index("direction"),
        lines_index=names.index("lines") if line_type is not None else None,
        key_names=key_names,
        receipt_names=receipt_names,
    )


class PiiMemo:
    """A protector that protects each value once.

    One message often names the same number twice (buyerTelephone and consigneeTelephone
    of one buyer; one buyer across documents), and masking the stored XML needs the very
    ``Pii`` the document holds: an HMAC per personal value and kind is enough. Protecting
    is a pure function of (value, kind), so the memo changes no result. One per message.
    """

    def __init__(self, protect: Protector) -> None:
        self._protect = protect
        self._done: dict[tuple[str, PiiKind], Pii] = {}

    def __call__(self, value: str, kind: PiiKind) -> Pii:
        found = self._done.get((value, kind))
        if found is None:
            found = self._done[(value, kind)] = self._protect(value, kind)
        return found


@dataclass(slots=True)  # not frozen: built once per document, and a frozen init costs more
class Reading:
    """What intake keeps of one document element."""

    document: Document
    digest: str
    key: dict[str, str]
    # Head fields a receipt echoes, with ``guid`` (as ``receipts.receipt_fields`` has them).
    receipt_fields: dict[str, str]
    personal: list[Personal]


def _walk(
    nodes: Iterable[etree._Element],
    add: Callable[[str], None],
    personal: list[Personal],
    protect: Protector,
) -> None:
    """Digest pieces and personal data of elements no table covers, at any depth."""
    for node in nodes:
        tag = node.tag
        if tag.__class__ is not str:  # comments, processing instructions
            continue
        text = node.text
        if len(node):
            add(f"{tag}\x00\x01")
        else:
            add(f"{tag}\x00{text.strip() if text else ''}\x01")
        kind = _PII_TAGS.get(tag)
        if kind is not None and text and text.strip():
            personal.append((node, text, protect(text.strip(), kind).masked))


def _read_block(
    block: etree._Element,
    tag: str,
    table: dict[str, int | _Row],
    values: list[Any],
    first: dict[str, str],
    pieces: list[str],
    personal: list[Personal],
    protect: Protector,
) -> None:
    """A head or line: its digest pieces, its children into ``values`` (by field index)
    and ``first`` (lenient fields)."""
    add = pieces.append
    slot = len(pieces)
    # The piece of a block with children; replaced below if it has none. Counting children
    # as they come saves a ``len()``, which walks them all.
    add(f"{tag}\x00\x01")
    childless = True
    for node in block:
        childless = False
        tag = node.tag
        if tag.__class__ is not str:
            continue
        text = node.text
        value = text.strip() if text else ""
        if len(node):
            add(f"{tag}\x00\x01")
            _walk(node.iterdescendants(), add, personal, protect)
        else:
            add(f"{tag}\x00{value}\x01")
        row = table.get(tag)
        if row.__class__ is int:  # most fields: the text itself, nothing else to do
            if value:
                values[row] = value
            continue
        if row is None:
            continue
        index, convert, pii, mask, lenient = row  # type: ignore[misc]
        if lenient is not None and lenient not in first:
            first[lenient] = value
        if not value:
            continue
        if mask is not None:
            protected = protect(value, mask)
            personal.append((node, text, protected.masked))
            if index is not None and pii is mask:
                values[index] = protected
                continue
        if index is None:
            continue
        if pii is not None:
            values[index] = protect(value, pii)
        elif convert is not None:
            values[index] = convert(value)
        else:
            values[index] = value
    if childless:
        text = block.text
        pieces[slot] = f"{tag}\x00{text.strip() if text else ''}\x01"


def read_document(
    message_type: MessageType, element: etree._Element, protect: Protector
) -> Reading:
    """One ``<Order>``/``<Payment>``/... element of ``message_type``, read once.

    ``protect`` is called for every personal value met; give a ``PiiMemo`` to protect each
    value once across a message. Raises as ``extract_document`` always did: ``ValueError``
    without a head, and what ``Decimal``/``int`` raise for a bad number (head first, then
    the lines in order; only a schema-invalid document has one).
    """
    layout = _layout(message_type)
    pieces: list[str] = []
    personal: list[Personal] = []
    first: dict[str, str] = {}
    values = layout.head_defaults.copy()
    if layout.head_tag is None:
        _read_block(element, element.tag, layout.head, values, first, pieces, personal, protect)
    else:
        lines = _read_parts(message_type, layout, element, values, first, pieces, personal, protect)
        if layout.lines_index is not None:
            values[layout.lines_index] = lines
    values[layout.direction_index] = message_type.direction
    document: Document = layout.make(*values)
    return Reading(
        document,
        # One update over the joined pieces: the same bytes, so the same digest.
        hashlib.sha256("".join(pieces).encode()).hexdigest(),
        {name: first[name] for name in layout.key_names if first.get(name)},
        {name: first[name] for name in layout.receipt_names if first.get(name)},
        personal,
    )


def _read_parts(
    message_type: MessageType,
    layout: _Layout,
    element: etree._Element,
    values: list[Any],
    first: dict[str, str],
    pieces: list[str],
    personal: list[Personal],
    protect: Protector,
) -> tuple[Any, ...]:
    """A document with a head element: the first head into ``values``, the lines returned.

    Lines are read after the head, as a line before it (never in a valid document) waits
    for it in a slot of its own: the digest keeps document order and a bad number raises
    the error it always raised.
    """
    head_tag, lines_tag, make_line = layout.head_tag, layout.lines_tag, layout.make_line
    unused: dict[str, str] = {}  # lines have no lenient fields
    lines: list[Any] = []
    waiting: list[tuple[int, etree._Element]] = []
    slot = len(pieces)
    pieces.append(f"{element.tag}\x00\x01")
    childless = True
    head_seen = False
    for block in element:
        childless = False
        tag = block.tag
        if tag.__class__ is not str:
            continue
        if tag == head_tag and not head_seen:
            head_seen = True
            _read_block(block, tag, layout.head, values, first, pieces, personal, protect)
            for slot, early in waiting:
                own: list[str] = []
                line = layout.line_defaults.copy()
                _read_block(early, lines_tag, layout.line, line, unused, own, personal, protect)  # type: ignore[arg-type]
                lines.append(make_line(*line))  # type: ignore[misc]
                pieces[slot] = "".join(own)
        elif tag == lines_tag and make_line is not None:
            if not head_seen:
                if not waiting and element.find(str(head_tag)) is None:
                    break  # no head at all: refused below, before any line is read
                waiting.append((len(pieces), block))
                pieces.append("")
                continue
            line = layout.line_defaults.copy()
            _read_block(block, tag, layout.line, line, unused, pieces, personal, protect)
            lines.append(make_line(*line))
        else:
            _walk(block.iter(), pieces.append, personal, protect)
    if not head_seen:
        raise ValueError(f"{message_type.document} has no {message_type.head}")
    if childless:
        text = element.text
        pieces[slot] = f"{element.tag}\x00{text.strip() if text else ''}\x01"
    return tuple(lines)


def extract_document(
    message_type: MessageType, element: etree._Element, protect: Protector
) -> Document:
    """Typed document of one ``<Order>``/``<Payment>``/... element of ``message_type``."""
    return read_document(message_type, element, protect).document


def content_digest(element: etree._Element) -> str:
    """A digest of a document's content that ignores formatting and namespace prefixes.

    Two sends of the same document with the same ``guid`` are a replay when this matches and a
    ``GUID_CONFLICT`` when it does not; indentation or a different prefix must not count.
    Stored digests decide that across upgrades, so the input never changes: per element in
    document order its Clark tag, NUL, a leaf's stripped text, SOH, all UTF-8.
    ``read_document`` gives the same digest of a document as part of its pass.
    """
    pieces: list[str] = []
    add = pieces.append
    for node in element.iter():
        tag = node.tag
        if tag.__class__ is not str:
            continue
        if len(node):
            add(f"{tag}\x00\x01")
        else:
            text = node.text
            add(f"{tag}\x00{text.strip() if text else ''}\x01")
    return hashlib.sha256("".join(pieces).encode()).hexdigest()
