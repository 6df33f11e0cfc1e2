"""appType and appTime the schema admits but the standard gives no meaning: SCHEMA_INVALID,
with the path named (SPEC §5.1)."""

from __future__ import annotations

import pytest

from service.engine.prepare import Preparer
from service.messages.head_values import head_value_errors, is_real_time
from service.messages.registry import MESSAGE_TYPES, Role
from service.messages.schema import SchemaChecker
from service.security.keys import Caller
from service.security.pii import PiiProtector
from tests.messages.builders import document, message, serialize


@pytest.mark.parametrize(
    ("text", "real"),
    [
        ("20261111093000", True),
        ("20240229235959", True),  # a leap day
        ("20250229120000", False),
        ("20261399999999", False),
        ("20261131120000", False),
        ("20261111246000", False),
        ("2026111109300", False),
        ("2026111109300x", False),
        ("", False),
    ],
)
def test_real_times(text: str, real: bool) -> None:
    assert is_real_time(text) is real


def test_every_supported_head_has_both_fields_checked() -> None:
    for root, message_type in MESSAGE_TYPES.items():
        element = document(root, appType="9", appTime="20261399999999")
        errors = head_value_errors(message_type, element, 2)
        paths = [e.path for e in errors]
        head = f"/{message_type.head}" if message_type.head else ""
        where = f"/{root}/{message_type.document}[3]{head}"
        assert paths == [f"{where}/appType", f"{where}/appTime"], root
        assert head_value_errors(message_type, document(root), 0) == [], root


def _prepare(body: bytes) -> list[tuple[str, list[dict[str, str]]]]:
    caller = Caller(1, "1105910159", frozenset({"1105910159"}), frozenset(Role))
    preparer = Preparer(SchemaChecker(), PiiProtector("k" * 32, lambda _: True), 10_000_000, "off")
    prepared = preparer.prepare(body, caller)
    return [(r.outcome.status, r.outcome.errors) for r in prepared.results]


def test_a_meaningless_app_type_rejects_only_its_document() -> None:
    docs = [
        document("CEB311Message", guid="AAAAAAAA-0000-0000-0000-000000000001"),
        document("CEB311Message", guid="AAAAAAAA-0000-0000-0000-000000000002", appType="9"),
    ]
    results = _prepare(serialize(message("CEB311Message", docs)))
    assert results[1][0] == "rejected"
    (error,) = results[1][1]
    assert error["code"] == "SCHEMA_INVALID"
    assert error["path"] == "/CEB311Message/Order[2]/OrderHead/appType"
    assert results[0][1] == [] or results[0][1][0]["code"] != "SCHEMA_INVALID"


def test_an_impossible_app_time_is_schema_invalid() -> None:
    body = serialize(
        message("CEB311Message", [document("CEB311Message", appTime="20261399999999")])
    )
    ((status, errors),) = _prepare(body)
    assert status == "rejected"
    assert [(e["code"], e["path"]) for e in errors] == [
        ("SCHEMA_INVALID", "/CEB311Message/Order[1]/OrderHead/appTime")
    ]
    assert "20261399999999" in errors[0]["message"]
