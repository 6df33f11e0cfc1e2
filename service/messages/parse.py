"""Hardened parsing of a CEB message body.

Customs messages come from thousands of enterprise systems; a parser that resolves entities,
loads DTDs or follows XInclude is an open door (billion laughs, XXE, SSRF). We refuse every such
construct outright rather than neutralising it, so a sender learns at once that its message is
not acceptable.
"""

from __future__ import annotations

import re

from lxml import etree

from service.errors import ForbiddenXml, MalformedXml, MessageTooLarge

UTF8_BOM = b"\xef\xbb\xbf"
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
# Anything that declares or pulls in other content. Refused even inside comments: a sender
# that writes these is not sending a customs message.
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY|<\?xml-stylesheet|" + re.escape(XINCLUDE_NS.encode()))
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_blank_text=False,
    collect_ids=False,
)


def parse_message(body: bytes, max_bytes: int) -> etree._Element:
    """The root element of ``body``, or a ``MessageRefused`` saying why not."""
    if len(body) > max_bytes:
        raise MessageTooLarge(
            f"message is {len(body)} bytes, the limit is {max_bytes}", limit=max_bytes
        )
    if body.startswith(UTF8_BOM):
        body = body[len(UTF8_BOM) :]
    head = body.lstrip()[:200]
    declared = _DECLARED_ENCODING.match(head)
    if declared and declared.group(1).upper().replace(b"_", b"-") not in (b"UTF-8", b"UTF8"):
        raise MalformedXml(f"message must be UTF-8, it declares {declared.group(1).decode()}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise MalformedXml("message must be UTF-8")
    found = _FORBIDDEN.search(body)
    if found:
        what = found.group(0).decode(errors="replace")
        raise ForbiddenXml(
            f"message contains {what!r}: DTDs, entities, stylesheets and XInclude are refused"
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedXml(f"message is not valid UTF-8 at byte {exc.start}") from None
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedXml(f"not well-formed XML: {exc.msg}", line=exc.lineno) from None
    if root is None:
        raise MalformedXml("empty message")
    return root
