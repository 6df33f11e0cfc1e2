"""Signatures at intake (SPEC §11): the policy, and what a failure does to the message.

The crypto itself is tested in tests/security; here a real signer (tests/security/signing.py)
signs demo consignments' messages and the preparer judges them as the service does.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest
from lxml import etree

from service.demo.consignments import Consignment, clean_import, message_of
from service.demo.exports import clean_export
from service.engine.prepare import Prepared, Preparer
from service.messages.registry import DS_NS, Kind, Role
from service.messages.schema import SchemaChecker
from service.security.certificates import RegisteredCertificate
from service.security.keys import Caller
from service.security.pii import PiiProtector
from service.security.signature_policy import SignaturePolicy
from service.security.xmldsig import cop_code_of
from tests.security import signing
from tests.security.signing import RSA_SHA256_VARIANT, Variant, rsa_signer, sign, sm2_signer

NOW = signing.NOW
CHECKER = SchemaChecker()
PROTECT = PiiProtector("k" * 32, lambda _: True)


def _preparer(policy: SignaturePolicy = "registered") -> Preparer:
    return Preparer(CHECKER, PROTECT, 10_000_000, policy)


def _unsigned(body: bytes) -> bytes:
    root = etree.fromstring(body)
    for signature in root.findall(f"{{{DS_NS}}}Signature"):
        root.remove(signature)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _caller(body: bytes) -> Caller:
    codes = frozenset(t.strip() for t in etree.fromstring(body).itertext() if t.strip())
    return Caller(1, "any", codes, frozenset(Role))


def _consignments(n: int = 2) -> list[Consignment]:
    return [clean_import(random.Random(i), 700 + i, regime="1210") for i in range(n)]


def _prepare(
    body: bytes,
    certificates: tuple[RegisteredCertificate, ...] = (),
    policy: SignaturePolicy = "registered",
) -> Prepared:
    return _preparer(policy).prepare(body, _caller(body), certificates, NOW)


def _code(body: bytes) -> str:
    code = cop_code_of(etree.fromstring(body))
    assert code is not None
    return code


def _statuses(prepared: Prepared) -> list[str]:
    return [r.outcome.status for r in prepared.results]


@pytest.mark.parametrize(
    ("signer", "variant"),
    [(rsa_signer, RSA_SHA256_VARIANT), (sm2_signer, Variant())],
    ids=["rsa", "sm2"],
)
def test_a_registered_senders_signed_list_is_verified_and_records_the_serial(
    signer: Callable[[], signing.Signer], variant: Variant
) -> None:
    body = _unsigned(message_of(_consignments(), Kind.INVENTORY))
    key = signer()
    signed = sign(body, key, variant)
    prepared = _prepare(signed, (key.registered(_code(body)),))
    assert _statuses(prepared) == ["accepted", "accepted"]
    assert {(i.signature, i.signature_serial) for i in prepared.incoming.values()} == {
        ("verified", key.info.serial)
    }


def test_content_changed_after_signing_rejects_every_document_with_the_digest_check() -> None:
    body = _unsigned(message_of(_consignments(), Kind.ORDER))
    key = rsa_signer()
    signed = sign(body, key, RSA_SHA256_VARIANT)
    tampered = signed.replace(b"<ceb:goodsValue>", b"<ceb:goodsValue>1", 1)
    assert tampered != signed
    prepared = _prepare(tampered, (key.registered(_code(body)),))
    assert prepared.incoming == {}
    assert _statuses(prepared) == ["rejected", "rejected"]
    for result in prepared.results:
        (error,) = result.outcome.errors
        assert result.outcome.return_status == "100"
        assert error["code"] == "SIGNATURE_INVALID"
        assert error["check"] == "digest"
        assert error["serial"] == key.info.serial
        assert error["algorithms"]["signature"].endswith("rsa-sha256")
        assert result.guid and result.key.get("orderNo")


def test_a_garbage_value_is_refused_when_the_sender_registered_a_certificate() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.ORDER))
    key = rsa_signer()
    signed = etree.fromstring(sign(body, key, RSA_SHA256_VARIANT))
    value = signed.find(f"{{{DS_NS}}}Signature/{{{DS_NS}}}SignatureValue")
    assert value is not None
    value.text = "AAAA" + (value.text or "")[4:]
    garbage = etree.tostring(signed)
    registered = _prepare(garbage, (key.registered(_code(body)),))
    assert [r.outcome.errors[0]["check"] for r in registered.results] == ["value"]
    # without a certificate the same message is accepted, as unverified
    unregistered = _prepare(garbage)
    assert _statuses(unregistered) == ["accepted"]
    assert [i.signature for i in unregistered.incoming.values()] == ["unverified"]
    # and with the policy off, even with a certificate
    off = _prepare(garbage, (key.registered(_code(body)),), policy="off")
    assert [i.signature for i in off.incoming.values()] == ["unverified"]


def test_a_revoked_or_expired_certificate_still_binds_its_sender() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.ORDER))
    key = rsa_signer()
    signed = sign(body, key, RSA_SHA256_VARIANT)
    revoked = key.registered(_code(body), revoked_at=NOW - dt.timedelta(days=1))
    prepared = _prepare(signed, (revoked,))
    (error,) = prepared.results[0].outcome.errors
    assert (error["code"], error["check"]) == ("SIGNATURE_INVALID", "certificate")
    assert "revoked" in error["message"]


def test_another_codes_certificate_does_not_count() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.ORDER))
    key = rsa_signer()
    signed = sign(body, key, RSA_SHA256_VARIANT)
    prepared = _prepare(signed, (key.registered("9999999999"),))
    assert [i.signature for i in prepared.incoming.values()] == ["unverified"]


@pytest.mark.parametrize("policy", ["registered", "required", "off"])
@pytest.mark.parametrize("kind", ["import", "export"])
def test_a_list_without_a_signature_is_signature_missing_under_every_policy(
    policy: SignaturePolicy, kind: str
) -> None:
    if kind == "import":
        body = message_of(_consignments(), Kind.INVENTORY)
    else:
        body = message_of([clean_export(random.Random(3), 3, regime="9610")], Kind.INVENTORY)
    unsigned = _unsigned(body)
    prepared = _prepare(unsigned, policy=policy)
    assert prepared.incoming == {}
    for result in prepared.results:
        (error,) = result.outcome.errors
        assert error["code"] == "SIGNATURE_MISSING"
        assert result.outcome.return_status == "100"


def test_a_misplaced_signature_is_invalid_not_missing() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.INVENTORY))
    key = sm2_signer()
    root = etree.fromstring(sign(body, key, Variant()))
    signature = root.find(f"{{{DS_NS}}}Signature")
    base_transfer = root.find("{*}BaseTransfer")
    assert signature is not None and base_transfer is not None
    base_transfer.append(signature)
    (result,) = _prepare(etree.tostring(root), (key.registered(_code(body)),)).results
    (error,) = result.outcome.errors
    assert (error["code"], error["check"]) == ("SIGNATURE_INVALID", "algorithm")
    assert "not a direct child of the root" in error["message"]
    assert error["serial"] == key.info.serial


def test_a_key_name_that_looks_like_personal_data_is_not_echoed_in_clear() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.ORDER))
    key = rsa_signer()
    id_like = "110105194912310021"  # valid hex, and shaped like a resident ID number
    signed = sign(body, key, RSA_SHA256_VARIANT.but(key_name=id_like))
    (result,) = _prepare(signed, (key.registered(_code(body)),)).results
    (error,) = result.outcome.errors
    assert error["check"] == "certificate"
    assert id_like not in str(error)
    assert "1101**********0021" in error["message"]


def test_signature_missing_is_judged_before_the_schema() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.INVENTORY))
    broken = body.replace(b"<ceb:orderNo>", b"<ceb:orderNo>" + b"X" * 80, 1)
    (result,) = _prepare(broken).results
    assert [e["code"] for e in result.outcome.errors] == ["SIGNATURE_MISSING"]


def test_policy_required_wants_every_message_signed_and_verified() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.ORDER))
    (unsigned,) = _prepare(body, policy="required").results
    assert unsigned.outcome.errors[0]["code"] == "SIGNATURE_MISSING"
    key = rsa_signer()
    signed = sign(body, key, RSA_SHA256_VARIANT)
    (unregistered,) = _prepare(signed, policy="required").results
    assert unregistered.outcome.errors[0]["code"] == "SIGNATURE_INVALID"
    assert unregistered.outcome.errors[0]["check"] == "certificate"
    verified = _prepare(signed, (key.registered(_code(body)),), policy="required")
    assert [i.signature for i in verified.incoming.values()] == ["verified"]


def test_an_unsigned_order_is_absent_and_accepted_under_the_default_policy() -> None:
    body = _unsigned(message_of(_consignments(1), Kind.ORDER))
    prepared = _prepare(body, (rsa_signer().registered(_code(body)),))
    assert [i.signature for i in prepared.incoming.values()] == ["absent"]
