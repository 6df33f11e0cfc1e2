"""Cancels and returns through intake's prepare step (no database), and the builders that make
them for an inventory: typed IncomingDocuments, sender and party checks, signatures, head
values."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from service.demo.consignments import Consignment, clean_import
from service.demo.exports import clean_export
from service.engine.prepare import Prepared, Preparer
from service.errors import Forbidden
from service.messages.documents import InvtCancel, InvtRefund
from service.messages.extract import read_document
from service.messages.registry import DS_NS, MESSAGE_TYPES, Direction, Kind, Role
from service.messages.schema import SchemaChecker
from service.rules.idcard import gb11643_valid
from service.security.keys import Caller
from service.security.pii import PiiProtector
from service.security.signature_policy import SignaturePolicy
from tests.messages import builders
from tests.messages.builders import C, document, message, serialize
from tests.messages.samples import repaired, sample
from tests.security.signing import NOW as SIGNED_AT
from tests.security.signing import RSA_SHA256_VARIANT, rsa_signer, sign

CHECKER = SchemaChecker()
PROTECT = PiiProtector("lifecycle-intake-key-0123456789abcdef", gb11643_valid)
INVT_NO = "29242026I000000001"
ROOTS = ("CEB623Message", "CEB625Message", "CEB605Message", "CEB213Message")


def _prepare(body: bytes, caller: Caller, policy: SignaturePolicy = "registered") -> Prepared:
    return Preparer(CHECKER, PROTECT, 10_000_000, policy).prepare(body, caller)


def _caller(*codes: str, roles: frozenset[Role] = frozenset({Role.AGENT})) -> Caller:
    return Caller(1, codes[0], frozenset(codes), roles)


def _outcomes(prepared: Prepared) -> list[tuple[str, list[str]]]:
    return [(r.outcome.status, [e["code"] for e in r.outcome.errors]) for r in prepared.results]


def _consignments() -> dict[str, Consignment]:
    rng = random.Random(17)
    return {"I": clean_import(rng, 1), "E": clean_export(rng, 2)}


@pytest.mark.parametrize("root", ROOTS)
def test_lifecycle_documents_are_handed_on_typed(root: str) -> None:
    message_type = MESSAGE_TYPES[root]
    docs = [document(root, guid=f"{i:036d}", lines=2) for i in range(3)]
    body = serialize(message(root, docs))
    head = docs[0] if message_type.head is None else docs[0].find(C + message_type.head)
    assert head is not None
    agent = head.findtext(C + "agentCode") or ""
    prepared = _prepare(body, _caller(agent, "1105910159"))
    assert _outcomes(prepared) == [("accepted", [])] * 3
    assert [r.kind for r in prepared.results] == [message_type.kind.value] * 3
    assert sorted(prepared.incoming) == [0, 1, 2]
    incoming = prepared.incoming[0]
    assert incoming.message_type is message_type
    expected = InvtCancel if message_type.kind is Kind.CANCEL else InvtRefund
    assert type(incoming.document) is expected
    assert incoming.document.direction is message_type.direction
    assert prepared.results[0].key == incoming.document.key
    assert "invtNo" in prepared.results[0].key and "invtNo" in prepared.results[0].receipt_fields
    assert incoming.signature == ("unverified" if message_type.must_be_signed else "absent")
    if isinstance(incoming.document, InvtRefund):
        assert [line.gnum for line in incoming.document.lines] == [1, 2]


@pytest.mark.parametrize("root", ROOTS)
def test_the_document_must_name_an_enterprise_the_key_acts_for(root: str) -> None:
    body = serialize(message(root, [document(root)]))
    # acting for the BaseTransfer copCode only: neither the agent nor the ebc
    [result] = _prepare(body, _caller("1105910159")).results
    assert [e["code"] for e in result.outcome.errors] == ["SENDER_MISMATCH"]
    assert "agentCode" in result.outcome.errors[0]["message"]
    # not even the copCode
    [result] = _prepare(body, _caller("0000000000")).results
    assert result.outcome.errors[0]["path"] == f"/{root}/BaseTransfer/copCode"
    assert "invtNo" in result.key  # answered from what is readable


@pytest.mark.parametrize("party", ["agentCode", "ebcCode"])
def test_the_ebc_or_the_agent_may_send(party: str) -> None:
    consignment = _consignments()["E"]
    root = builders.cancel_for(consignment, invt_no=INVT_NO, cop_code="1105910159")
    code = consignment.inventory[party]
    prepared = _prepare(serialize(root), _caller(code, "1105910159"))
    assert _outcomes(prepared) == [("accepted", [])]


@pytest.mark.parametrize("root", ROOTS)
def test_only_platforms_and_agents_send_them(root: str) -> None:
    body = serialize(message(root, [document(root)]))
    with pytest.raises(Forbidden):
        _prepare(body, _caller("1105910159", roles=frozenset({Role.LOGISTICS, Role.PAYMENT})))
    platform = _caller("1105910159", "1105910162", "3301960005", roles=frozenset({Role.PLATFORM}))
    assert _prepare(body, platform).results


@pytest.mark.parametrize("root", ROOTS)
def test_an_unsigned_import_cancel_or_return_is_refused(root: str) -> None:
    body = serialize(message(root, [document(root), document(root, guid="1" * 36)], signed=False))
    agent = etree.fromstring(body).findtext(f".//{C}agentCode") or ""
    prepared = _prepare(body, _caller(agent, "1105910159"), policy="off")
    if MESSAGE_TYPES[root].must_be_signed:
        assert _outcomes(prepared) == [("rejected", ["SIGNATURE_MISSING"])] * 2
        assert prepared.incoming == {}
    else:
        assert _outcomes(prepared) == [("accepted", [])] * 2
        assert prepared.incoming[0].signature == "absent"


@pytest.mark.parametrize("root", ROOTS)
def test_meaningless_head_values_are_schema_invalid(root: str) -> None:
    message_type = MESSAGE_TYPES[root]
    docs = [document(root), document(root, guid="1" * 36, appType="7", appTime="20261399999999")]
    agent = docs[0].findtext(f".//{C}agentCode") or ""
    prepared = _prepare(serialize(message(root, docs)), _caller(agent, "1105910159"))
    assert _outcomes(prepared)[0] == ("accepted", [])
    head = f"/{message_type.head}" if message_type.head else ""
    where = f"/{root}/{message_type.document}[2]{head}"
    errors = prepared.results[1].outcome.errors
    assert [(e["code"], e["path"]) for e in errors] == [
        ("SCHEMA_INVALID", f"{where}/appType"),
        ("SCHEMA_INVALID", f"{where}/appTime"),
    ]


@pytest.mark.parametrize(
    ("side", "stem"),
    [("import", "CEB623"), ("import", "CEB625"), ("export", "CEB605"), ("export", "CEB213")],
)
def test_official_samples_prepare(reference_dir: Path, side: str, stem: str) -> None:
    root = repaired(sample(reference_dir, side, stem))
    codes = frozenset(t.strip() for t in root.itertext() if t.strip())
    prepared = _prepare(serialize(root), Caller(1, "any", codes, frozenset({Role.AGENT})))
    assert _outcomes(prepared) == [("accepted", [])] * 10
    for incoming in prepared.incoming.values():
        for clear in ("130681136250023332", "130681196203023331", "13936921298"):
            assert clear not in incoming.raw_xml


# --- builders --------------------------------------------------------------------------------


def _inventory_forms(c: Consignment, direction: str) -> list[object]:
    element = etree.fromstring(c.message(Kind.INVENTORY))
    typed = read_document(
        MESSAGE_TYPES["CEB621Message" if direction == "I" else "CEB603Message"],
        element[0],
        PROTECT,
    ).document
    return [c, element, element[0], typed, c.inventory]


@pytest.mark.parametrize("direction", ["I", "E"])
def test_builders_make_valid_messages_for_any_form_of_inventory(
    official_schemas: dict[str, etree.XMLSchema], direction: str
) -> None:
    c = _consignments()[direction]
    for form in _inventory_forms(c, direction):
        lines = c.inventory_lines if form is c.inventory else None
        made = [
            builders.cancel_for(form, invt_no=INVT_NO),
            builders.refund_for(form, invt_no=INVT_NO, lines=lines),
        ]
        for root in made:
            message_type = MESSAGE_TYPES[etree.QName(root).localname]
            assert message_type.direction is Direction(direction)
            assert official_schemas[message_type.schema].validate(root), (form, root.tag)
            body = serialize(root)
            prepared = _prepare(body, _caller(c.inventory["agentCode"]))
            assert _outcomes(prepared) == [("accepted", [])], (type(form), root.tag)
            doc = prepared.incoming[0].document
            assert isinstance(doc, InvtCancel | InvtRefund)
            assert doc.invtNo == INVT_NO and doc.ebcCode == c.inventory["ebcCode"]
            if direction == "I":
                assert doc.key == {
                    "invtNo": INVT_NO,
                    "ebpCode": c.inventory["ebpCode"],
                    "orderNo": c.inventory["orderNo"],
                }
                assert doc.logisticsNo == c.inventory["logisticsNo"]


@pytest.mark.parametrize("direction", ["I", "E"])
def test_a_refund_returns_what_it_is_told(direction: str) -> None:
    c = _consignments()[direction]
    first = c.inventory_lines[0]
    half = Decimal(first["qty"]) / 2
    root = builders.refund_for(c, {1: half, 99: "1"}, invt_no=INVT_NO)
    message_type = MESSAGE_TYPES[etree.QName(root).localname]
    assert CHECKER.check(message_type, root).valid
    doc = read_document(message_type, root[0], PROTECT).document
    assert isinstance(doc, InvtRefund)
    assert [(line.gnum, line.qty) for line in doc.lines] == [(1, half), (99, Decimal("1"))]
    assert doc.lines[0].gcode == first["gcode"]
    if direction == "E":  # the legal quantity goes back in proportion
        assert doc.lines[0].qty1 == (Decimal(first["qty1"]) / 2).quantize(Decimal("0.00001"))
    whole = read_document(message_type, builders.refund_for(c, invt_no=INVT_NO)[0], PROTECT)
    assert isinstance(whole.document, InvtRefund)
    assert [line.qty for line in whole.document.lines] == [
        Decimal(str(line["qty"])) for line in c.inventory_lines
    ]


def test_builders_refuse_what_they_cannot_know() -> None:
    c = _consignments()["I"]
    with pytest.raises(ValueError, match="invt_no"):
        builders.cancel_for(c)
    with pytest.raises(KeyError, match="coElNo"):
        builders.cancel_for(c, invt_no=INVT_NO, coElNo="x")
    root = builders.cancel_for(c, invt_no=INVT_NO, reason="改了", note="n", buyerName=None)
    cancel = root[0]
    assert cancel.findtext(C + "reason") == "改了" and cancel.findtext(C + "note") == "n"
    assert cancel.find(C + "buyerName") is None
    assert root.find(f"{{{DS_NS}}}Signature") is not None
    assert root.findtext(f"{C}BaseTransfer/{C}copCode") == c.inventory["agentCode"]
    guids = {builders.cancel_for(c, invt_no=INVT_NO)[0].findtext(C + "guid") for _ in range(3)}
    assert len(guids) == 3  # fresh per call: a second cancel is not a replay of the first


@pytest.mark.parametrize("make", [builders.cancel_for, builders.refund_for], ids=["623", "625"])
def test_a_registered_agents_signed_cancel_or_return_is_verified(
    make: Callable[..., etree._Element],
) -> None:
    c = _consignments()["I"]
    root = make(c, invt_no=INVT_NO, signed=False)
    key = rsa_signer()
    signed = sign(serialize(root), key, RSA_SHA256_VARIANT)
    agent = c.inventory["agentCode"]
    preparer = Preparer(CHECKER, PROTECT, 10_000_000, "registered")
    prepared = preparer.prepare(signed, _caller(agent), (key.registered(agent),), SIGNED_AT)
    assert _outcomes(prepared) == [("accepted", [])]
    assert prepared.incoming[0].signature == "verified"
    tampered = signed.replace(INVT_NO.encode(), b"29242026I000000002")
    prepared = preparer.prepare(tampered, _caller(agent), (key.registered(agent),), SIGNED_AT)
    assert _outcomes(prepared) == [("rejected", ["SIGNATURE_INVALID"])]
