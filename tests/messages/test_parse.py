"""Hardened parsing: what is refused before any schema sees it (SPEC §5.1, §6.1)."""

from __future__ import annotations

import pytest

from service.errors import ForbiddenXml, MalformedXml, MessageTooLarge
from service.messages.parse import parse_message
from tests.messages.builders import C, message, serialize

LIMIT = 1024 * 1024
VALID = serialize(message("CEB311Message"))
ROOT = b'<ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="g" version="1.0"/>'


def test_a_valid_message_parses() -> None:
    root = parse_message(VALID, LIMIT)
    assert root.tag == f"{C}CEB311Message"
    assert root.find(f"{C}Order/{C}OrderHead/{C}ebpName").text == "示例平台"


def test_a_utf8_bom_is_accepted() -> None:
    root = parse_message(b"\xef\xbb\xbf" + VALID, LIMIT)
    assert root.tag == f"{C}CEB311Message"


@pytest.mark.parametrize(
    "declaration", [b"", b'<?xml version="1.0"?>\n', b"<?xml version='1.0' encoding='utf-8'?>"]
)
def test_utf8_with_or_without_declaration(declaration: bytes) -> None:
    assert parse_message(declaration + ROOT, LIMIT).get("guid") == "g"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>',
        b'<!DOCTYPE r SYSTEM "http://example.com/evil.dtd"><r/>',
        b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
        b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd"/></r>',
        b'<?xml-stylesheet type="text/xsl" href="http://example.com/x.xsl"?><r/>',
        b"<r><!-- <!ENTITY hidden in a comment --></r>",
    ],
    ids=["billion-laughs", "external-dtd", "xxe", "xinclude", "stylesheet", "in-comment"],
)
def test_dtds_entities_and_inclusions_are_forbidden(body: bytes) -> None:
    with pytest.raises(ForbiddenXml) as caught:
        parse_message(body, LIMIT)
    assert caught.value.code == "XML_FORBIDDEN" and caught.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0" encoding="GBK"?>' + ROOT,
        b'<?xml version="1.0" encoding="gb2312"?>' + ROOT,
        b'<?xml version="1.0" encoding="ISO-8859-1"?>' + ROOT,
        '<?xml version="1.0" encoding="UTF-16"?><r>中</r>'.encode("utf-16"),
        "<r>中</r>".encode("utf-16-le"),
        "<r>中文</r>".encode("gbk"),
    ],
    ids=["gbk", "gb2312", "latin1", "utf16-bom", "utf16-no-bom", "gbk-undeclared"],
)
def test_anything_but_utf8_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedXml) as caught:
        parse_message(body, LIMIT)
    assert caught.value.code == "XML_MALFORMED"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"not xml at all",
        b"<r>",
        b"<r></s>",
        b"<r/><r/>",
        b"\x00\x01\x02",
        b"<r>&undefined;</r>",
        b"<r a='1' a='2'/>",
        b'{"json": true}',
    ],
)
def test_garbage_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedXml):
        parse_message(body, LIMIT)


def test_a_syntax_error_reports_its_line() -> None:
    with pytest.raises(MalformedXml) as caught:
        parse_message(b"<r>\n<a>\n</r>", LIMIT)
    assert caught.value.extra["line"] == 3


def test_too_large_is_refused_before_parsing() -> None:
    with pytest.raises(MessageTooLarge) as caught:
        parse_message(b"<!DOCTYPE r>" + b" " * 100, 50)
    assert caught.value.status == 413 and caught.value.extra == {"limit": 50}


def test_the_limit_itself_is_allowed() -> None:
    assert parse_message(VALID, len(VALID)).tag == f"{C}CEB311Message"
    with pytest.raises(MessageTooLarge):
        parse_message(VALID, len(VALID) - 1)
