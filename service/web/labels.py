"""Chinese names of the customs fields, shown beside the XML names on the bundle page.

They come from the annotations of the schemas Sandan ships (``schemas/``, which keep the
official ``xs:documentation`` of every field; tests/messages/test_field_labels.py checks them
against the official 2022-05 XSDs when those are present). An annotation is a description
more often than a name: the export schema mostly writes "订单编号-交易平台的订单编号…", the
import one "交易平台的订单编号，同一交易平台…". The short name shown is, in this order:

1. the name the field's own annotation begins with ("订单编号-…"), or its whole annotation when
   that is a bare name ("支付金额");
2. else its first clause when that is short and reads as a name ("毛重,单位为千克" -> "毛重"),
   not a code list ("1-身份证,2-其它") or an instruction ("保税模式必填");
3. else the name (by 1 or 2) the same element of the other schema gives the field (the import
   order's ``freight``, "不包含在商品价格中的运杂费", reads "运杂费" as the export order
   names it), or else the name most elements give it;
4. else the annotation's first clause ("使用积分、虚拟货币、代金券等非现金支付金额").

The whole annotation is kept as the name's tooltip (``note``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from lxml import etree

from service.messages.registry import MESSAGE_TYPES, Kind
from service.messages.schema import DEFAULT_SCHEMAS_DIR

XS = "{http://www.w3.org/2001/XMLSchema}"
SIDES = ("import", "export")
_NAMED = re.compile(r"^([\u4e00-\u9fff（）()A-Za-z0-9/]{2,12}?)\s*[-－]\s*\S")
_BARE = re.compile(r"^[\u4e00-\u9fff（）()A-Za-z0-9/]{2,12}$")
_CLAUSE = re.compile(r"[，。,;；：:\s]")
_ENUMERATION = re.compile(r"[A-Za-z0-9]-")
_INSTRUCTION = re.compile(r"必填|填写|免填|参照|默认|限定")
# The view addresses lines as OrderList[2].qty or InventoryList[2].qty (engine.review_view).
_LINE = re.compile(r"^(\w+)\[\d+\]\.(\w+)$")
Documentation = dict[tuple[str, str, str], str]


def documentation(schemas_dir: Path) -> Documentation:
    """(schema, element, field) -> the field's annotation, whitespace folded, for every
    field of every top-level element of the import and export schemas."""
    out: Documentation = {}
    for side in SIDES:
        root = etree.parse(str(schemas_dir / f"{side}.xsd")).getroot()
        for top in root.findall(f"{XS}element"):
            for field, text in _fields(top):
                out[(side, str(top.get("name")), field)] = text
    return out


def _fields(top: etree._Element) -> Iterator[tuple[str, str]]:
    for element in top.iter(f"{XS}element"):
        name = element.get("name")
        if element is top or name is None:
            continue
        doc = element.find(f"{XS}annotation/{XS}documentation")
        if doc is not None and (doc.text or "").strip():
            yield name, " ".join((doc.text or "").split())


def _name_in(text: str) -> str | None:
    """The name an annotation gives: "订单编号-…" or a bare "支付金额"."""
    named = _NAMED.match(text)
    if named and not named.group(1).isdigit():
        return named.group(1)
    bare = text.rstrip("。.")
    return bare if _BARE.match(bare) else None


def _clause(text: str) -> str:
    return _CLAUSE.split(text, maxsplit=1)[0] or text


def _short_clause(text: str) -> str | None:
    """The first clause when it reads as a name: short, neither a code list ("1-身份证") nor
    an instruction ("保税模式必填")."""
    clause = _clause(text)
    if len(clause) > 8 or _ENUMERATION.search(clause) or _INSTRUCTION.search(clause):
        return None
    return clause


def short_names(docs: Documentation) -> dict[tuple[str, str, str], str]:
    """(schema, element, field) -> the short name shown (see the module docstring)."""
    own = {k: name for k, text in docs.items() if (name := _name_in(text) or _short_clause(text))}
    by_field: dict[str, Counter[str]] = {}
    for (_, _, field), name in own.items():
        by_field.setdefault(field, Counter())[name] += 1
    out = {}
    for key, text in docs.items():
        side, element, field = key
        other_side = ("export" if side == "import" else "import", element, field)
        common = sorted(by_field.get(field, Counter()).items(), key=lambda kv: (-kv[1], len(kv[0])))
        out[key] = (
            own.get(key)
            or own.get(other_side)
            or (common[0][0] if common else None)
            or _clause(text)
        )
    return out


@cache
def _tables() -> tuple[Documentation, dict[tuple[str, str, str], str]]:
    docs = documentation(DEFAULT_SCHEMAS_DIR)
    return docs, short_names(docs)


def _key(kind: str, field: str, direction: str | None) -> tuple[str, str, str] | None:
    for t in MESSAGE_TYPES.values():
        if t.kind == Kind(kind) and t.direction.value == (direction or "I"):
            found = _LINE.match(field)
            if found:
                return t.schema, found.group(1), found.group(2)
            return t.schema, t.head or t.document, field
    return None


def label(kind: str, field: str, direction: str | None) -> str:
    """The Chinese name of ``field`` of a ``kind`` document ("" when the schema has none)."""
    key = _key(kind, field, direction)
    return _tables()[1].get(key, "") if key else ""


def note(kind: str, field: str, direction: str | None) -> str:
    """The field's whole annotation, as the official schema writes it."""
    key = _key(kind, field, direction)
    return _tables()[0].get(key, "") if key else ""
