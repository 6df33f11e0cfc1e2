"""Why a message failed its schema, as path-level errors a sender can act on.

Only reached for messages lxml already rejected, so speed does not matter here: the pure-Python
``xmlschema`` validator is used for its structured errors (the failing element, the facet and
its limit), and lxml's error log is the fallback when the two libraries disagree.

Paths are built from the elements themselves, never copied from a library's path string: the
tree being explained is usually a copy holding one document, and the path must name that
document's index in the message the sender wrote (``/CEB311Message/Order[3]/OrderHead/orderNo``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

_SHOWN_VALUE_CHARS = 80
_NOT_ALLOWED = re.compile(r"'([^']+)' attribute not allowed")
_MISSING_ATTRIBUTE = re.compile(r"missing required attribute '([^']+)'")
_CLARK = re.compile(r"\{[^}]*\}")
_LXML_ATTRIBUTE = re.compile(r"[Aa]ttribute '([^']+)'")


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One schema violation: where (prefix-free element path) and which constraint."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


# (original index of the document the error lies in, or None for the envelope; the error)
Located = tuple[int | None, SchemaError]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class PathNamer:
    """Element paths in the sender's terms for a (possibly partial) copy of a message.

    ``origin[k]`` is the original index of the k-th document element of ``root``. Documents and
    the tags in ``repeated`` always get a 1-based index; other elements only when a sibling
    shares their tag (a duplicated singleton is exactly what the sender needs to see).
    """

    def __init__(
        self,
        root: etree._Element,
        document_tag: str,
        origin: Sequence[int],
        repeated: Iterable[str] = (),
    ) -> None:
        self.root = root
        self.document_tag = document_tag
        self.origin = origin
        self.repeated = frozenset(repeated)

    def _document_position(self, node: etree._Element) -> int:
        return sum(1 for s in node.itersiblings(preceding=True) if s.tag == self.document_tag)

    def document_of(self, node: etree._Element | None) -> int | None:
        """Original index of the document ``node`` lies in, or None if it is in the envelope."""
        while node is not None and node is not self.root:
            parent = node.getparent()
            if parent is self.root:
                if node.tag != self.document_tag:
                    return None
                return self.origin[self._document_position(node)]
            node = parent
        return None

    def path(self, node: etree._Element) -> str:
        parts: list[str] = []
        current: etree._Element | None = node
        while current is not None:
            parent = current.getparent()
            name = _local(str(current.tag))
            if parent is None:
                parts.append(name)
            elif parent is self.root and current.tag == self.document_tag:
                parts.append(f"{name}[{self.origin[self._document_position(current)] + 1}]")
            elif name in self.repeated or any(
                s.tag == current.tag for s in parent if s is not current
            ):
                same = current.tag
                before = sum(1 for s in current.itersiblings(preceding=True) if s.tag == same)
                parts.append(f"{name}[{before + 1}]")
            else:
                parts.append(name)
            current = parent
        return "/" + "/".join(reversed(parts))


def _shown(value: Any) -> str:
    text = str(value)
    if len(text) > _SHOWN_VALUE_CHARS:
        text = text[:_SHOWN_VALUE_CHARS] + "..."
    return repr(text)


def _attribute_of(validator: Any) -> str | None:
    """Name of the attribute whose type ``validator`` belongs to, if any."""
    for _ in range(4):
        if validator is None:
            return None
        if type(validator).__name__ == "XsdAttribute":
            return _local(str(validator.name))
        validator = getattr(validator, "parent", None)
    return None


def _value_message(error: Any) -> tuple[str | None, str]:
    """(attribute name or None, readable constraint) of a simple-content error."""
    validator, reason = error.validator, str(error.reason or error.message)
    attribute = _attribute_of(validator)
    if (match := _MISSING_ATTRIBUTE.search(reason)) is not None:
        return match.group(1), f"missing required attribute {match.group(1)!r}"
    if (match := _NOT_ALLOWED.search(reason)) is not None:
        return match.group(1), f"unexpected attribute {match.group(1)!r}"
    obj = error.obj
    if isinstance(obj, etree._Element):
        obj = obj.text or ""
    value = _shown(obj) if isinstance(obj, str | int | Decimal) else None
    limit = getattr(validator, "value", None)
    kind = type(validator).__name__
    if value is None:
        return attribute, reason
    if kind == "XsdMaxLengthFacet":
        return attribute, f"value {value} is longer than maxLength {limit}"
    if kind == "XsdMinLengthFacet":
        return attribute, f"value {value} is shorter than minLength {limit}"
    if kind == "XsdLengthFacet":
        return attribute, f"value {value} has length {len(str(obj))}, length must be {limit}"
    if kind == "XsdTotalDigitsFacet":
        return attribute, f"value {value} has more than totalDigits {limit}"
    if kind == "XsdFractionDigitsFacet":
        return attribute, f"value {value} has more than fractionDigits {limit}"
    if type(error).__name__ == "XMLSchemaDecodeError" and getattr(validator, "name", None):
        return attribute, f"value {value} is not a valid {validator.prefixed_name}"
    return attribute, f"value {value}: {reason}"


def _expected_name(particle: Any) -> str:
    # A wildcard (xs:any) has no name.
    return repr(_local(str(particle.name))) if particle.name else "any element"


def _children_message(error: Any) -> tuple[etree._Element, str]:
    """(element to point at, readable constraint) of a content-model error."""
    parent: etree._Element = error.elem
    expected = [e for e in (error.expected or ()) if hasattr(e, "name")]
    names = " or ".join(_expected_name(e) for e in expected) or "more content"
    tag, index = error.invalid_tag, error.index
    if tag is None or index is None or index >= len(parent):
        if len(expected) == 1:
            return parent, f"missing required element {names}"
        return parent, f"incomplete content, expected {names}"
    child = parent[index]
    model = list(error.validator.iter_elements())
    declared = {str(e.name): position for position, e in enumerate(model)}
    if str(tag) not in declared:
        hint = f", expected {names}" if expected else ""
        return child, f"unexpected element {_local(str(tag))!r}{hint}"
    wanted = {str(e.name) for e in expected}
    later = next((s for s in child.itersiblings() if s.tag in wanted), None)
    decl = model[declared[str(tag)]]
    if any(declared.get(str(e.name), -1) < declared[str(tag)] for e in expected):
        if later is not None:
            # Point at the misplaced element the sender wrote, not at its innocent neighbour.
            return later, (
                f"element {_local(str(later.tag))!r} is out of order, "
                f"it must come before {_local(str(tag))!r}"
            )
        if len(expected) == 1 and expected[0].min_occurs:
            return parent, f"missing required element {names} before {_local(str(tag))!r}"
        return child, f"unexpected element {_local(str(tag))!r}, expected {names}"
    count = 1 + sum(1 for s in child.itersiblings(preceding=True) if s.tag == tag)
    if decl.max_occurs is not None and count > decl.max_occurs:
        return child, f"too many {_local(str(tag))!r} elements, maxOccurs is {decl.max_occurs}"
    return child, f"element {_local(str(tag))!r} is out of order, expected {names}"


def explain_with_xmlschema(
    schema: Any, root: etree._Element, namer: PathNamer, limit: int
) -> list[Located]:
    out: list[Located] = []
    for error in schema.iter_errors(root):
        node: etree._Element = error.elem if error.elem is not None else root
        if type(error).__name__ == "XMLSchemaChildrenValidationError":
            node, message = _children_message(error)
            path = namer.path(node)
            wanted: list[Any] = list(error.expected or ())
            if message.startswith("missing required element") and len(wanted) == 1:
                path += "/" + _local(str(getattr(wanted[0], "name", None) or "*"))
        else:
            attribute, message = _value_message(error)
            path = namer.path(node) + (f"/@{attribute}" if attribute else "")
        found = (namer.document_of(node), SchemaError(path, message))
        if found not in out:
            out.append(found)
        if len(out) >= limit:
            break
    return out


def explain_with_lxml(
    schema: etree.XMLSchema, root: etree._Element, namer: PathNamer, limit: int
) -> list[Located]:
    schema.validate(root)
    # libxml2 writes paths with the document's own prefixes, wherever they were declared.
    namespaces = {k: v for node in root.iter() for k, v in node.nsmap.items() if k}
    out: list[Located] = []
    for entry in schema.error_log:
        node: etree._Element = root
        if entry.path:
            try:
                hits = root.getroottree().xpath(entry.path, namespaces=namespaces)
            except etree.XPathError:
                hits = []
            if hits and isinstance(hits[0], etree._Element):
                node = hits[0]
        message = _CLARK.sub("", entry.message)
        attribute = _LXML_ATTRIBUTE.search(message)
        path = namer.path(node) + (f"/@{attribute.group(1)}" if attribute else "")
        error = SchemaError(path, message)
        found = (namer.document_of(node), error)
        if found not in out:
            out.append(found)
        if len(out) >= limit:
            break
    return out
