"""SchemaChecker: per-document verdicts and path-level errors (SPEC §5.1 SCHEMA_INVALID, §6.1)."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from service.messages.registry import MESSAGE_TYPES, MessageType
from service.messages.schema import ENVELOPE, SchemaChecker, SchemaError
from tests.messages.builders import C, D, document, message
from tests.messages.samples import EXPORT_TYPES, sample

ORDER = MESSAGE_TYPES["CEB311Message"]
INVENTORY = MESSAGE_TYPES["CEB621Message"]


@pytest.fixture(scope="module", params=["xmlschema", "lxml"])
def any_checker(request: pytest.FixtureRequest) -> SchemaChecker:
    """The checker explaining with xmlschema, and one that must fall back to lxml's log."""
    return SchemaChecker(explain_budget=10_000 if request.param == "xmlschema" else 0)


def orders(count: int, **broken: Any) -> etree._Element:
    """A CEB311 with ``count`` orders O-1..O-n; ``broken`` overrides apply to the 2nd."""
    docs = [document("CEB311Message", orderNo=f"O-{i + 1}") for i in range(count)]
    if broken:
        docs[1] = document("CEB311Message", **{"orderNo": "O-2", **broken})
    return message("CEB311Message", docs)


def messages(errors: list[SchemaError]) -> str:
    return " | ".join(f"{e.path}: {e.message}" for e in errors)


def test_a_valid_message_has_no_errors(checker: SchemaChecker) -> None:
    root = orders(3)
    result = checker.check(ORDER, root)
    assert result.valid and result.errors == {}
    assert [d.findtext(f"{C}OrderHead/{C}orderNo") for d in result.documents] == [
        "O-1",
        "O-2",
        "O-3",
    ]
    assert all(d.getparent() is root for d in result.documents)


def test_valid_messages_never_reach_xmlschema(monkeypatch: pytest.MonkeyPatch) -> None:
    checker = SchemaChecker()

    def refuse(side: str) -> None:
        raise AssertionError("the hot path compiled xmlschema")

    monkeypatch.setattr(checker, "explainer", refuse)
    assert checker.check(ORDER, orders(100)).valid


def test_only_the_broken_document_is_at_fault(any_checker: SchemaChecker) -> None:
    result = any_checker.check(ORDER, orders(3, orderNo="O" * 61))
    assert list(result.errors) == [1]
    [error] = result.errors[1]
    assert error.path == "/CEB311Message/Order[2]/OrderHead/orderNo"
    assert "maxLength" in error.message and "60" in error.message


def test_xmlschema_messages_name_the_constraint(checker: SchemaChecker) -> None:
    result = checker.check(ORDER, orders(3, orderNo="1" * 61, ebpName=None, currency="502"))
    assert messages(result.errors[1]) == (
        "/CEB311Message/Order[2]/OrderHead/orderNo: value '"
        + "1" * 61
        + "' is longer than maxLength 60"
        " | /CEB311Message/Order[2]/OrderHead/currency: value '502': must have the fixed value"
        " '142'"
        " | /CEB311Message/Order[2]/OrderHead/ebpName: missing required element 'ebpName'"
        " before 'ebcCode'"
    )


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (
            lambda o: o.find(f"{C}OrderList/{C}qty").__setattr__("text", "1.123456"),
            "/CEB311Message/Order[2]/OrderList[1]/qty",
            "value '1.123456' has more than fractionDigits 5",
        ),
        (
            lambda o: o.find(f"{C}OrderList/{C}price").__setattr__("text", "12a"),
            "/CEB311Message/Order[2]/OrderList[1]/price",
            "value '12a' is not a valid xs:decimal",
        ),
        (
            lambda o: o.find(f"{C}OrderHead/{C}guid").__setattr__("text", "G" * 35),
            "/CEB311Message/Order[2]/OrderHead/guid",
            "value '" + "G" * 35 + "' has length 35, length must be 36",
        ),
        (
            lambda o: o.find(f"{C}OrderHead").append(etree.Element(f"{C}foo")),
            "/CEB311Message/Order[2]/OrderHead/foo",
            "unexpected element 'foo'",
        ),
        (
            lambda o: o.find(f"{C}OrderHead").addnext(deepcopy(o.find(f"{C}OrderHead"))),
            "/CEB311Message/Order[2]/OrderHead[2]",
            "too many 'OrderHead' elements, maxOccurs is 1",
        ),
        (
            lambda o: o.find(f"{C}OrderHead/{C}ebpCode").addprevious(
                o.find(f"{C}OrderHead/{C}ebpName")
            ),
            "/CEB311Message/Order[2]/OrderHead/ebpCode",
            "element 'ebpCode' is out of order, it must come before 'ebpName'",
        ),
        (lambda o: o.set("id", "x"), "/CEB311Message/Order[2]/@id", "unexpected attribute 'id'"),
        (
            lambda o: o.remove(o.find(f"{C}OrderList")),
            "/CEB311Message/Order[2]/OrderList",
            "missing required element 'OrderList'",
        ),
    ],
)
def test_document_errors_are_precise(
    checker: SchemaChecker, edit: Any, path: str, message: str
) -> None:
    root = orders(3)
    edit(root.findall(f"{C}Order")[1])
    result = checker.check(ORDER, root)
    assert list(result.errors) == [1]
    assert result.errors[1] == [SchemaError(path, message)]


def test_a_line_index_counts_from_one(checker: SchemaChecker) -> None:
    root = message("CEB311Message", [document("CEB311Message"), document("CEB311Message", lines=3)])
    root.findall(f"{C}Order")[1].findall(f"{C}OrderList")[2].find(f"{C}unit").text = "07"
    [error] = checker.check(ORDER, root).errors[1]
    assert error.path == "/CEB311Message/Order[2]/OrderList[3]/unit"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda r: r.set("guid", "short"), "/CEB311Message/@guid"),
        (lambda r: r.attrib.pop("version"), "/CEB311Message/@version"),
        (lambda r: r.remove(r.find(f"{C}BaseTransfer")), None),
        (
            lambda r: r.find(f"{C}BaseTransfer").addnext(deepcopy(r.find(f"{C}BaseTransfer"))),
            "/CEB311Message/BaseTransfer[2]",
        ),
        (
            lambda r: r.find(f"{C}BaseTransfer/{C}dxpMode").__setattr__("text", "DX"),
            "/CEB311Message/BaseTransfer/dxpMode",
        ),
    ],
)
def test_envelope_errors_reach_every_document(
    any_checker: SchemaChecker, edit: Any, path: str | None
) -> None:
    root = orders(3)
    edit(root)
    result = any_checker.check(ORDER, root)
    envelope = result.errors[ENVELOPE]
    assert envelope and result.envelope_errors == envelope
    assert all(result.errors[i] == envelope for i in range(3))
    if path is not None:
        assert envelope[0].path == path


def test_envelope_and_document_errors_add_up(checker: SchemaChecker) -> None:
    root = orders(3, orderNo="O" * 61)
    root.set("guid", "short")
    result = checker.check(ORDER, root)
    envelope = [
        SchemaError("/CEB311Message/@guid", "value 'short' has length 5, length must be 36")
    ]
    assert result.errors[ENVELOPE] == envelope
    assert result.errors[0] == result.errors[2] == envelope
    assert [e.path for e in result.errors[1]] == [
        "/CEB311Message/Order[2]/OrderHead/orderNo",
        "/CEB311Message/@guid",
    ]


def test_documents_valid_alone_can_break_the_message_together(
    any_checker: SchemaChecker,
) -> None:
    root = orders(101)
    result = any_checker.check(ORDER, root)
    assert len(result.documents) == 101
    assert result.errors[ENVELOPE][0].path == "/CEB311Message/Order[101]"
    assert set(result.errors) == {ENVELOPE, *range(101)}


def test_a_misplaced_document_is_its_own_fault(checker: SchemaChecker) -> None:
    root = orders(3)
    root.find(f"{C}BaseTransfer").addnext(root.findall(f"{C}Order")[1])
    result = checker.check(ORDER, root)
    assert list(result.errors) == [2]
    assert result.errors[2][0].path == "/CEB311Message/Order[3]"


def test_a_message_without_documents_has_only_envelope_errors(
    any_checker: SchemaChecker,
) -> None:
    root = orders(1)
    root.remove(root.find(f"{C}Order"))
    result = any_checker.check(ORDER, root)
    assert result.documents == []
    assert list(result.errors) == [ENVELOPE] and not result.valid


def test_ceb621_requires_a_valid_signature(any_checker: SchemaChecker) -> None:
    docs = [document("CEB621Message", orderNo=f"O-{i}") for i in range(2)]
    assert any_checker.check(INVENTORY, message("CEB621Message", deepcopy(docs))).valid
    unsigned = message("CEB621Message", deepcopy(docs), signed=False)
    assert set(any_checker.check(INVENTORY, unsigned).errors) == {ENVELOPE, 0, 1}
    broken = message("CEB621Message", deepcopy(docs))
    broken.find(f"{D}Signature").remove(broken.find(f"{D}Signature/{D}SignatureValue"))
    result = any_checker.check(INVENTORY, broken)
    assert set(result.errors) == {ENVELOPE, 0, 1}
    assert result.errors[ENVELOPE][0].path.startswith("/CEB621Message/Signature")


def test_official_signed_inventory_passes(checker: SchemaChecker, reference_dir: Path) -> None:
    root = sample(reference_dir, "import", "CEB621")
    assert root.find(f"{D}Signature") is not None
    assert checker.check(INVENTORY, root).valid


def test_export_messages_use_the_export_schema(checker: SchemaChecker, reference_dir: Path) -> None:
    root = sample(reference_dir, "export", "CEB303")  # repeats BaseTransfer, as published
    result = checker.check(EXPORT_TYPES["CEB303Message"], root)
    assert len(result.documents) == 10
    assert result.errors[ENVELOPE] == [
        SchemaError(
            "/CEB303Message/BaseTransfer[2]", "too many 'BaseTransfer' elements, maxOccurs is 1"
        )
    ]


def test_explainer_failure_falls_back_to_lxml(monkeypatch: pytest.MonkeyPatch) -> None:
    checker = SchemaChecker()

    def broken(side: str) -> Any:
        raise RuntimeError("xmlschema unavailable")

    monkeypatch.setattr(checker, "explainer", broken)
    result = checker.check(ORDER, orders(3, orderNo="O" * 61))
    assert list(result.errors) == [1]
    assert result.errors[1][0].path == "/CEB311Message/Order[2]/OrderHead/orderNo"
    assert "maxLength" in result.errors[1][0].message


def test_errors_per_document_are_capped(checker: SchemaChecker) -> None:
    root = orders(
        2,
        **{
            name: "X" * 1001 for name in ("orderNo", "ebpName", "ebcName", "buyerName", "consignee")
        },
    )
    for line in range(30):
        root.findall(f"{C}Order")[1].append(document("CEB311Message").find(f"{C}OrderList"))
        root.findall(f"{C}Order")[1].findall(f"{C}OrderList")[-1][0].text = f"x{line}"
    assert len(checker.check(ORDER, root).errors[1]) == 20


def test_wrong_root_for_the_type_is_a_programming_error(checker: SchemaChecker) -> None:
    with pytest.raises(ValueError, match="CEB311Message"):
        checker.check(ORDER, message("CEB411Message"))


def test_schemas_dir_is_configurable(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SchemaChecker(tmp_path)


def test_schema_error_json() -> None:
    error = SchemaError("/CEB311Message/@guid", "missing required attribute 'guid'")
    assert error.to_json() == {"path": error.path, "message": error.message}


def _types() -> list[MessageType]:
    return list(MESSAGE_TYPES.values())


@pytest.mark.parametrize("message_type", _types(), ids=lambda t: t.root)
def test_every_import_type_builds_valid(checker: SchemaChecker, message_type: MessageType) -> None:
    # CEB711 holds one Delivery a message (its schema's maxOccurs), the others up to 100
    count = 1 if message_type.root == "CEB711Message" else 3
    docs = [document(message_type.root, guid=f"{i:036d}") for i in range(count)]
    assert checker.check(message_type, message(message_type.root, docs)).valid


def test_lxml_stays_the_judge_where_xmlschema_is_lenient(checker: SchemaChecker) -> None:
    # An empty element with fixed="142": xmlschema supplies the fixed value and accepts it,
    # libxml2 (like the official schema compiled by lxml) checks length 3 and refuses it.
    result = checker.check(
        ORDER,
        message(
            "CEB311Message",
            [
                document("CEB311Message"),
                document("CEB311Message", currency=""),
            ],
        ),
    )
    assert list(result.errors) == [1]
    [error] = result.errors[1]
    assert error.path == "/CEB311Message/Order[2]/OrderHead/currency"
    assert "length" in error.message


def test_concurrent_explanations_keep_their_own_errors() -> None:
    """Large messages are prepared in threads; lxml keeps a schema's last error log on the
    shared schema object, and one sender's errors must never reach another's answer."""
    from concurrent.futures import ThreadPoolExecutor

    checker = SchemaChecker(explain_budget=0)  # always lxml's log
    cases = {
        "long orderNo": orders(30, orderNo="X" * 80),
        "bad amount": orders(30, goodsValue="not-a-number"),
    }
    alone = {name: messages(checker.check(ORDER, root).errors[1]) for name, root in cases.items()}
    assert alone["long orderNo"] != alone["bad amount"]

    def explain(name: str) -> tuple[str, str]:
        return name, messages(checker.check(ORDER, cases[name]).errors.get(1, []))

    with ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(explain, [name for _ in range(40) for name in cases]))
    assert all(found == alone[name] for name, found in seen)
