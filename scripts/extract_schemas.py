"""Derive Sandan's own XSDs (``schemas/``) from the official GACC 2022-05 schemas.

The official ``import.xsd`` and ``export.xsd`` describe every CEB message of their side; Sandan
handles a few of them. This script keeps the declarations those message roots need, followed
transitively through ``ref=``/``type=``/``base=`` (and substitution groups), copied verbatim
with their Chinese annotations, and drops the rest. Keeping the text verbatim is what lets the
conformance tests demand the same verdict as the official schema on any message.

    python scripts/extract_schemas.py [--reference-dir DIR] [--out schemas] [--check]

``--check`` regenerates in memory and exits 1 when ``schemas/`` is out of date.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[1]
XS_NS = "http://www.w3.org/2001/XMLSchema"
XS = "{" + XS_NS + "}"
DSIG_SCHEMA = "xmldsig-core-schema.xsd"

# Message roots Sandan supports, per official schema file: business messages and their receipts.
SIDES: dict[str, tuple[str, ...]] = {
    "import": (
        "CEB311Message",
        "CEB411Message",
        "CEB511Message",
        "CEB621Message",
        "CEB312Message",
        "CEB412Message",
        "CEB512Message",
        "CEB622Message",
        "CEB623Message",
        "CEB625Message",
        "CEB624Message",
        "CEB626Message",
        "CEB711Message",
        "CEB712Message",
    ),
    "export": (
        "CEB303Message",
        "CEB403Message",
        "CEB505Message",
        "CEB603Message",
        "CEB304Message",
        "CEB404Message",
        "CEB506Message",
        "CEB604Message",
        "CEB605Message",
        "CEB213Message",
        "CEB606Message",
        "CEB214Message",
        "CEB701Message",
        "CEB702Message",
        "CEB792Message",
        "CEB507Message",
        "CEB508Message",
        "CEB607Message",
        "CEB608Message",
        "CEB509Message",
        "CEB510Message",
    ),
}

# Attribute -> which symbol space its QName lives in (XSD has separate ones per kind).
_REFERENCES: dict[str, str] = {
    "type": "type",
    "base": "type",
    "itemType": "type",
    "memberTypes": "type",
    "substitutionGroup": "element",
    "refer": "identity",
}
_REF_SPACE = {
    "element": "element",
    "attribute": "attribute",
    "group": "group",
    "attributeGroup": "attributeGroup",
}
_TOP_SPACE = {
    "element": "element",
    "attribute": "attribute",
    "group": "group",
    "attributeGroup": "attributeGroup",
    "complexType": "type",
    "simpleType": "type",
}

Symbol = tuple[str, str]  # (symbol space, local name)


class SchemaExtractionError(Exception):
    pass


def _local(tag: object) -> str | None:
    if isinstance(tag, str) and tag.startswith(XS):
        return tag[len(XS) :]
    return None


def _qnames(node: etree._Element, value: str) -> Iterator[tuple[str | None, str]]:
    for token in value.split():
        prefix, _, name = token.rpartition(":")
        yield node.nsmap.get(prefix or None), name


def _references(decl: etree._Element) -> Iterator[tuple[str | None, Symbol]]:
    """(namespace, symbol) of everything ``decl`` points at."""
    for node in decl.iter():
        kind = _local(node.tag)
        if kind is None:
            continue
        for attr, value in node.attrib.items():
            space = _REF_SPACE.get(kind) if attr == "ref" else _REFERENCES.get(str(attr))
            if space is None:
                continue
            for ns, name in _qnames(node, value):
                yield ns, (space, name)


def _substitution_heads(decl: etree._Element) -> Iterator[tuple[str | None, Symbol]]:
    value = decl.get("substitutionGroup")
    if value:
        for ns, name in _qnames(decl, value):
            yield ns, ("element", name)


def _identity_names(decl: etree._Element) -> Iterator[str]:
    for kind in ("key", "unique", "keyref"):
        for node in decl.iter(XS + kind):
            yield str(node.get("name"))


def needed_declarations(
    schema: etree._Element, roots: Iterable[str]
) -> tuple[set[Symbol], set[str]]:
    """Symbols of ``schema`` reachable from the ``roots`` elements, and foreign namespaces used."""
    target = schema.get("targetNamespace")
    top: dict[Symbol, etree._Element] = {}
    for child in schema:
        kind = _local(child.tag)
        if kind in ("include", "redefine", "override"):
            raise SchemaExtractionError(f"xs:{kind} is not supported")
        if kind in _TOP_SPACE:
            top[(_TOP_SPACE[kind], str(child.get("name")))] = child
    identity = {name: sym for sym, decl in top.items() for name in _identity_names(decl)}
    # Elements that may stand in for a kept element must be kept too.
    substitutes: dict[str, list[Symbol]] = {}
    for sym, decl in top.items():
        for ns, (_, head) in _substitution_heads(decl):
            if ns == target:
                substitutes.setdefault(head, []).append(sym)

    keep: set[Symbol] = set()
    foreign: set[str] = set()
    pending: list[Symbol] = []
    for root in roots:
        if ("element", root) not in top:
            raise SchemaExtractionError(f"no global element {root!r} in the schema")
        pending.append(("element", root))
    while pending:
        sym = pending.pop()
        if sym in keep:
            continue
        keep.add(sym)
        pending.extend(substitutes.get(sym[1], []) if sym[0] == "element" else [])
        for ns, ref in _references(top[sym]):
            if ns == XS_NS:
                continue
            if ns != target:
                foreign.add(str(ns))
            elif ref[0] == "identity" and ref[1] in identity:
                pending.append(identity[ref[1]])
            elif ref in top:
                pending.append(ref)
            else:
                raise SchemaExtractionError(f"{sym[1]} refers to undeclared {ref[0]} {ref[1]!r}")
    return keep, foreign


def _next_element(node: etree._Element) -> etree._Element | None:
    sibling = node.getnext()
    while sibling is not None and not isinstance(sibling.tag, str):
        sibling = sibling.getnext()
    return sibling


def extract(source: Path, roots: Sequence[str], generator: str) -> bytes:
    """The text of a schema holding only what ``roots`` need from ``source``."""
    raw = source.read_bytes()
    schema = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    keep, foreign = needed_declarations(schema, roots)
    doomed = [c for c in schema if isinstance(c.tag, str) and _is_doomed(c, keep, foreign)]
    # A top-level comment documents what follows it: it goes when that goes.
    doomed += [
        c
        for c in schema
        if not isinstance(c.tag, str)
        and (following := _next_element(c)) is not None
        and _is_doomed(following, keep, foreign)
    ]
    for node in doomed:
        schema.remove(node)
    title = (schema.findtext(f"{XS}annotation/{XS}documentation") or "").strip()
    header = (
        f"<!--\n  Sandan schema for the {source.stem} CEB messages it handles:\n"
        + "".join(f"    {' '.join(roots[i : i + 4])}\n" for i in range(0, len(roots), 4))
        + f"  Derived from the official GACC 2022-05 schema {source.name} ({title}),\n"
        f"  sha256 {hashlib.sha256(raw).hexdigest()},\n"
        f"  by {generator}: only the declarations these roots need, followed\n"
        "  transitively through ref=/type=/base=, copied verbatim with their annotations.\n"
        "  Do not edit by hand: rerun the script.\n-->\n"
    )
    body: bytes = etree.tostring(schema, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + header.encode() + body + b"\n"


def _is_doomed(node: etree._Element, keep: set[Symbol], foreign: set[str]) -> bool:
    kind = _local(node.tag)
    if kind == "import":
        return node.get("namespace") not in foreign
    if kind in _TOP_SPACE:
        return (_TOP_SPACE[kind], node.get("name")) not in keep
    return False


def generate(reference_dir: Path) -> dict[str, bytes]:
    """File name -> content of every file of ``schemas/``."""
    xsd_dir = reference_dir / "xsd"
    out = {
        f"{side}.xsd": extract(xsd_dir / f"{side}.xsd", roots, "scripts/extract_schemas.py")
        for side, roots in SIDES.items()
    }
    out[DSIG_SCHEMA] = (xsd_dir / DSIG_SCHEMA).read_bytes()
    return out


def _default_reference_dir() -> Path:
    from service.config import Settings

    path = Settings().reference_dir
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--reference-dir",
        type=Path,
        default=None,
        help="official GACC folder (default: SANDAN_REFERENCE_DIR setting)",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "schemas")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in --out are not up to date",
    )
    args = parser.parse_args(argv)
    reference_dir = args.reference_dir or _default_reference_dir()
    files = generate(reference_dir)
    stale = [
        name
        for name, content in files.items()
        if not (args.out / name).is_file() or (args.out / name).read_bytes() != content
    ]
    if args.check:
        for name in stale:
            print(f"{args.out / name} is out of date", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (args.out / name).write_bytes(files[name])
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
