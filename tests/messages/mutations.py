"""Deterministic mutations of CEB messages, for differential schema tests.

``mutants`` chains one to three seeded random edits of the kinds senders get wrong: missing or
extra elements, over-long or empty values, wrong fixed values, bad numbers, reordering,
duplicated singletons, root attributes, signatures, too many lines or documents, values at and
just past a facet of the official schema. ``tests.messages.catalogue`` applies single edits
systematically. Nothing here decides validity: the point is to ask two schemas the same
questions where verdicts flip.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial

from lxml import etree

from tests.messages.facets import FacetLookup, boundary_values

CEB = "http://www.chinaport.gov.cn/ceb"
DS = "http://www.w3.org/2000/09/xmldsig#"
C = f"{{{CEB}}}"
# Repeated children of a document (lines) and of a message (documents): the "many" edits.
LINES = {"Order": "OrderList", "Inventory": "InventoryList", "InvtRefund": "InvtRefundList"}
DOCUMENTS = (
    "Order",
    "Payment",
    "Logistics",
    "Inventory",
    "Receipts",
    "InvtCancel",
    "InvtRefund",
    "OrderReturn",
    "PaymentReturn",
    "LogisticsReturn",
    "InventoryReturn",
    "ReceiptsReturn",
    "InvtCancelReturn",
    "InvtRefundReturn",
    "RefundReturn",
)

LENGTHS = (
    0,
    1,
    3,
    4,
    9,
    10,
    14,
    17,
    18,
    19,
    20,
    30,
    31,
    32,
    33,
    36,
    37,
    60,
    61,
    100,
    101,
    1000,
    1001,
)
VALUES = (
    "",
    " ",
    "0",
    "-1",
    "+5",
    "1.5",
    "abc",
    "1e3",
    "1,000",
    " 12.5 ",
    "1.12345",
    "1.123456",
    "1234567890123456789",
    "12345678901234567890",
    "0.00001",
    "142",
    "502",
    "20240301120000",
    "2024-03-01",
    "I",
    "E",
    "中文",
    "A",
    "99999999999",
    "2147483648",
)
CURRENCIES = ("142", "502", "110", "14", "1420", "", "CNY")


@dataclass(frozen=True, slots=True)
class Mutant:
    name: str
    root: etree._Element


def elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root]


def leaves(root: etree._Element) -> list[etree._Element]:
    return [e for e in elements(root) if len(e) == 0]


def local_name(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _named(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in elements(root) if local_name(e) == name]


def _is_number(text: str | None) -> bool:
    try:
        Decimal((text or "").strip())
    except InvalidOperation:
        return False
    return bool((text or "").strip())


Edit = Callable[[etree._Element, random.Random], str]


def remove_element(root: etree._Element, rng: random.Random) -> str:
    pool = leaves(root) if rng.random() < 0.7 else elements(root)
    target = rng.choice(pool)
    parent = target.getparent()
    assert parent is not None
    parent.remove(target)
    return f"remove {local_name(target)}"


def set_length(root: etree._Element, rng: random.Random) -> str:
    target = rng.choice(leaves(root))
    current = len(target.text or "")
    size = rng.choice((*LENGTHS, current + 1, max(current - 1, 0)))
    target.text = ("1" if _is_number(target.text) else "X") * size
    return f"{local_name(target)} length {size}"


def set_value(root: etree._Element, rng: random.Random) -> str:
    target = rng.choice(leaves(root))
    target.text = rng.choice(VALUES)
    return f"{local_name(target)}={target.text!r}"


def set_currency(root: etree._Element, rng: random.Random) -> str:
    found = _named(root, "currency")
    if not found:
        return set_value(root, rng)
    target = rng.choice(found)
    target.text = rng.choice(CURRENCIES)
    return f"currency={target.text!r}"


def set_guid(root: etree._Element, rng: random.Random) -> str:
    guid = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
    value = rng.choice((guid[:35], guid + "0", guid.lower(), guid, "", guid[:35] + " "))
    targets = _named(root, "guid")
    if targets and rng.random() < 0.6:
        rng.choice(targets).text = value
        return f"guid element len {len(value)}"
    root.set("guid", value)
    return f"guid attribute len {len(value)}"


def swap_siblings(root: etree._Element, rng: random.Random) -> str:
    pool = [e for e in elements(root) if e.getnext() is not None]
    target = rng.choice(pool)
    following = target.getnext()
    assert following is not None
    following.addnext(target)
    return f"swap {local_name(target)} after {local_name(following)}"


def insert_unknown(root: etree._Element, rng: random.Random) -> str:
    parent = rng.choice([root, *elements(root)])
    tag = rng.choice((C + "foo", "foo", "{urn:other}foo", C + "note", C + "Signature"))
    extra = etree.Element(tag)
    extra.text = "x"
    parent.insert(rng.randint(0, len(parent)), extra)
    return f"insert {tag} into {local_name(parent)}"


def duplicate(root: etree._Element, rng: random.Random) -> str:
    target = rng.choice(elements(root))
    target.addnext(deepcopy(target))
    return f"duplicate {local_name(target)}"


def root_attributes(root: etree._Element, rng: random.Random) -> str:
    choice = rng.randrange(6)
    if choice == 0:
        root.attrib.pop("guid", None)
        return "no guid attribute"
    if choice == 1:
        root.attrib.pop("version", None)
        return "no version attribute"
    if choice == 2:
        root.set("foo", "1")
        return "unknown root attribute"
    version = ("", "1.0", "12345678901", "1234567890")[choice - 2]
    root.set("version", version)
    return f"version={version!r}"


def signature(root: etree._Element, rng: random.Random) -> str:
    found = root.find(f"{{{DS}}}Signature")
    if found is None:
        return set_guid(root, rng)
    choice = rng.randrange(4)
    if choice == 0:
        root.remove(found)
        return "no Signature"
    if choice == 1 and len(found):
        found.remove(found[rng.randrange(len(found))])
        return "Signature child removed"
    if choice == 2:
        etree.SubElement(found, f"{{{DS}}}Object").text = "lax content"
        return "Signature Object added"
    root.append(deepcopy(found))
    return "two Signatures"


def set_lines(root: etree._Element, count: int) -> bool:
    """Give the first document with lines exactly ``count`` copies of its first line."""
    line = next((e for e in elements(root) if local_name(e) in LINES.values()), None)
    parent = line.getparent() if line is not None else None
    if line is None or parent is None:
        return False
    for old in [e for e in parent if e.tag == line.tag]:
        parent.remove(old)
    for number in range(count):
        copy = deepcopy(line)
        gnum = copy.find(C + "gnum")
        if gnum is not None:
            gnum.text = str(number + 1)
        parent.append(copy)
    return True


def set_documents(root: etree._Element, count: int) -> bool:
    """Make the message hold exactly ``count`` copies of its first document."""
    documents = [e for e in root if isinstance(e.tag, str) and local_name(e) in DOCUMENTS]
    if not documents:
        return False
    for extra in documents[1:]:
        root.remove(extra)
    for _ in range(count - 1):
        documents[0].addnext(deepcopy(documents[0]))
    return True


def add_subscribe(root: etree._Element, count: int) -> None:
    subscribe = etree.Element(C + "BaseSubscribe")
    for name, value in (("status", "ALL"), ("dxpMode", "DXP"), ("dxpAddress", "A1")):
        etree.SubElement(subscribe, C + name).text = value
    transfer = root.find(C + "BaseTransfer")
    anchor = transfer if transfer is not None else root[len(root) - 1]
    for _ in range(count):
        anchor.addnext(deepcopy(subscribe))


def add_extend(root: etree._Element, last: bool) -> None:
    """ExtendMessage: import wants it before ds:Signature, export after: a real difference."""
    extend = etree.Element(C + "ExtendMessage")
    etree.SubElement(extend, C + "name").text = "ext"
    etree.SubElement(extend, C + "version").text = "1"
    etree.SubElement(etree.SubElement(extend, C + "Message"), "anything").text = "x"
    transfer = root.find(C + "BaseTransfer")
    if last or transfer is None:
        root.append(extend)
    else:
        transfer.addnext(extend)


def many_lines(root: etree._Element, rng: random.Random) -> str:
    count = rng.choice((98, 99, 100, 101))
    return f"{count} lines" if set_lines(root, count) else many_documents(root, rng)


def many_documents(root: etree._Element, rng: random.Random) -> str:
    count = rng.choice((99, 100, 101))
    return f"{count} documents" if set_documents(root, count) else duplicate(root, rng)


def envelope(root: etree._Element, rng: random.Random) -> str:
    transfer = root.find(C + "BaseTransfer")
    choice = rng.randrange(5)
    if choice == 0:
        count = rng.randint(1, 6)
        add_subscribe(root, count)
        return f"{count} BaseSubscribe"
    if choice in (1, 2) and transfer is not None:
        if choice == 1:
            transfer.addnext(deepcopy(transfer))
            return "two BaseTransfer"
        root.remove(transfer)
        return "no BaseTransfer"
    add_extend(root, last=choice == 3)
    return f"ExtendMessage {'last' if choice == 3 else 'after BaseTransfer'}"


def mixed_content(root: etree._Element, rng: random.Random) -> str:
    parents = [e for e in elements(root) if len(e)] or [root]
    target = rng.choice(parents)
    target.text = rng.choice(("junk", "  \n  "))
    return f"text in {local_name(target)} {target.text.strip()!r}"


def stray_attribute(root: etree._Element, rng: random.Random) -> str:
    target = rng.choice(elements(root))
    target.set(rng.choice(("id", "{urn:other}id")), "1")
    return f"attribute on {local_name(target)}"


def whitespace(root: etree._Element, rng: random.Random) -> str:
    target = rng.choice(leaves(root))
    target.text = f"  {target.text or ''}\n"
    return f"whitespace around {local_name(target)}"


def no_namespace(root: etree._Element, rng: random.Random) -> str:
    target = rng.choice(elements(root))
    target.tag = local_name(target)
    return f"{target.tag} without namespace"


def at_boundary(root: etree._Element, rng: random.Random, lookup: FacetLookup) -> str:
    candidates = [leaf for leaf in leaves(root) if boundary_values(lookup(leaf))]
    if not candidates:
        return set_length(root, rng)
    target = rng.choice(candidates)
    target.text = rng.choice(boundary_values(lookup(target)))
    return f"{local_name(target)} at boundary {target.text!r}"


EDITS: tuple[tuple[Edit, int], ...] = (
    (remove_element, 6),
    (set_length, 4),
    (set_value, 6),
    (set_currency, 2),
    (set_guid, 2),
    (swap_siblings, 3),
    (insert_unknown, 2),
    (duplicate, 3),
    (root_attributes, 2),
    (signature, 2),
    (many_lines, 2),
    (many_documents, 1),
    (envelope, 3),
    (mixed_content, 1),
    (stray_attribute, 1),
    (whitespace, 2),
    (no_namespace, 1),
)


def mutants(
    bases: Sequence[tuple[str, etree._Element]],
    count: int,
    seed: int,
    lookup: FacetLookup | None = None,
) -> list[Mutant]:
    """``count`` mutants of ``bases`` (name, root), the same ones for the same seed."""
    rng = random.Random(seed)
    edits: list[Edit] = [edit for edit, _ in EDITS]
    weights = [weight for _, weight in EDITS]
    if lookup is not None:
        edits.append(partial(at_boundary, lookup=lookup))
        weights.append(8)
    out: list[Mutant] = []
    for number in range(count):
        name, base = bases[number % len(bases)]
        root = deepcopy(base)
        steps = rng.choice((1, 1, 1, 2, 3))
        labels = [rng.choices(edits, weights)[0](root, rng) for _ in range(steps)]
        out.append(Mutant(f"#{number} {name}: {'; '.join(labels)}", root))
    return out
