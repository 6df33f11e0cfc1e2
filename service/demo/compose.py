"""Writing CEB messages from field dictionaries, in the element order the schema demands.

The order comes from Sandan's own ``schemas/`` (read once with lxml), so a composed message is
valid exactly when its values are.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from service.messages.registry import CEB_NS, DS_NS, MESSAGE_TYPES

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
_XS = "{http://www.w3.org/2001/XMLSchema}"


@cache
def field_order(side: str, element: str) -> tuple[str, ...]:
    """Child element names of a global element of our ``schemas/<side>.xsd``, in order."""
    tree = etree.parse(str(SCHEMAS / f"{side}.xsd"))
    found = tree.find(f"{_XS}element[@name='{element}']")
    if found is None:
        raise KeyError(f"{element} is not declared in {side}.xsd")
    sequence = found.find(f"{_XS}complexType/{_XS}sequence")
    assert sequence is not None
    return tuple(
        (child.get("name") or child.get("ref", "")).split(":")[-1]
        for child in sequence.iterfind(f"{_XS}element")
    )


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return escape(str(value))


def _fields(side: str, element: str, values: Mapping[str, Any], indent: str) -> str:
    parts = [f"{indent}<ceb:{element}>"]
    for name in field_order(side, element):
        value = values.get(name)
        if value is not None:
            parts.append(f"{indent}  <ceb:{name}>{_text(value)}</ceb:{name}>")
    parts.append(f"{indent}</ceb:{element}>")
    return "\n".join(parts)


def new_guid() -> str:
    return str(uuid.uuid4()).upper()


def compose(
    root: str,
    documents: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
    cop_code: str,
    *,
    cop_name: str = "Sandan demo",
    guid: str | None = None,
    signed: bool | None = None,
) -> bytes:
    """A ``root`` message holding ``documents`` as (head fields, line fields) pairs."""
    mt = MESSAGE_TYPES[root]
    if signed is None:
        signed = MESSAGE_TYPES[root].must_be_signed
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<ceb:{root} guid="{guid or new_guid()}" version="1.0" xmlns:ceb="{CEB_NS}">',
    ]
    for head, lines in documents:
        if mt.head is None:
            # Export receipts and waybills carry their fields on the document element.
            out.append(_fields(mt.schema, mt.document, head, "  "))
            continue
        out.append(f"  <ceb:{mt.document}>")
        out.append(_fields(mt.schema, mt.head, head, "    "))
        if mt.lines is not None:
            out.extend(_fields(mt.schema, mt.lines, line, "    ") for line in lines)
        out.append(f"  </ceb:{mt.document}>")
    out.append(
        _fields(
            mt.schema,
            "BaseTransfer",
            {
                "copCode": cop_code,
                "copName": cop_name,
                "dxpMode": "DXP",
                "dxpId": "DXPSANDAN0000001",
            },
            "  ",
        )
    )
    if signed:
        out.append(unsigned_signature())
    out.append(f"</ceb:{root}>")
    return "\n".join(out).encode()


def unsigned_signature() -> str:
    """An enveloped ds:Signature block without a signature value.

    CEB621 must carry ``ds:Signature``. Demo and test traffic has no enterprise certificate,
    so it sends the block as a sender's system does before its signing step; Sandan accepts
    it and shows the signature as unverified (SPEC §5, signature policy).
    """
    return (
        f'  <ds:Signature xmlns:ds="{DS_NS}">'
        "<ds:SignedInfo>"
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>'
        '<ds:Reference URI=""><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        "</ds:Transforms>"
        '<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>'
        "<ds:DigestValue></ds:DigestValue></ds:Reference>"
        "</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>"
    )
