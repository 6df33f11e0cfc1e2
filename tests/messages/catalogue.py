"""Every single edit of a base message: the systematic half of the mutation set.

Each structural bound (99/100/101 lines, 100/101 documents, 5/6 BaseSubscribe, ExtendMessage
placement, missing or doubled BaseTransfer and Signature, root attributes) and, for each leaf of
the first document and of BaseTransfer: removed, duplicated, and set at and just past each facet
the official schema gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from functools import partial
from typing import Any

from lxml import etree

from tests.messages.facets import DS, FacetLookup, boundary_values
from tests.messages.mutations import (
    C,
    Mutant,
    add_extend,
    add_subscribe,
    leaves,
    local_name,
    set_documents,
    set_lines,
)


def _structural() -> Iterator[tuple[str, Callable[[etree._Element], Any]]]:
    for count in (99, 100, 101):
        yield f"{count} lines", partial(set_lines, count=count)
    for count in (100, 101):
        yield f"{count} documents", partial(set_documents, count=count)
    for count in (5, 6):
        yield f"{count} BaseSubscribe", partial(add_subscribe, count=count)
    yield "ExtendMessage last", partial(add_extend, last=True)
    yield "ExtendMessage after BaseTransfer", partial(add_extend, last=False)
    for attribute in ("guid", "version"):
        yield f"no {attribute} attribute", partial(_drop_attribute, name=attribute)
    for tag in (C + "BaseTransfer", f"{{{DS}}}Signature"):
        yield f"no {_local_tag(tag)}", partial(_drop_child, tag=tag)
        yield f"two {_local_tag(tag)}", partial(_double_child, tag=tag)


def _local_tag(tag: str) -> str:
    return tag.rpartition("}")[2]


def _drop_attribute(root: etree._Element, name: str) -> None:
    root.attrib.pop(name, None)


def _drop_child(root: etree._Element, tag: str) -> None:
    found = root.find(tag)
    if found is not None:
        root.remove(found)


def _double_child(root: etree._Element, tag: str) -> None:
    found = root.find(tag)
    if found is not None:
        found.addnext(deepcopy(found))


def catalogue(name: str, base: etree._Element, lookup: FacetLookup) -> list[Mutant]:
    """Every single edit of ``base``: structure, and each leaf of its first document and
    envelope removed, duplicated and set at and past each of its facets."""
    out: list[Mutant] = []
    for label, edit in _structural():
        root = deepcopy(base)
        edit(root)
        out.append(Mutant(f"{name}: {label}", root))
    first = next((e for e in base if isinstance(e.tag, str)), None)
    targets = [e for e in leaves(base) if first is not None and first in e.iterancestors()]
    targets += [e for e in leaves(base) if local_name(_parent(e)) == "BaseTransfer"]
    nodes = list(base.iter())
    for position, leaf in enumerate(targets):
        # A deep copy has the same shape, so the leaf's place in document order finds it again.
        place = next(i for i, node in enumerate(nodes) if node is leaf)
        edits: list[tuple[str, Callable[[etree._Element], None]]] = [
            ("removed", lambda e: _parent(e).remove(e)),
            ("duplicated", lambda e: e.addnext(deepcopy(e))),
        ]
        for value in boundary_values(lookup(leaf)):
            edits.append((f"= {value[:20]!r} ({len(value)})", partial(_set_text, value=value)))
        for label, edit in edits:
            root = deepcopy(base)
            edit(list(root.iter())[place])
            out.append(Mutant(f"{name}: leaf {position} {local_name(leaf)} {label}", root))
    return out


def _parent(element: etree._Element) -> etree._Element:
    parent = element.getparent()
    assert parent is not None
    return parent


def _set_text(element: etree._Element, value: str) -> None:
    element.text = value
