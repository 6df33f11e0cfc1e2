"""Enveloped XML-DSig verification (SPEC §11): every variant real senders produce verifies;
every way a signature can be wrong fails with the check that names it."""

from __future__ import annotations

import base64
import datetime as dt
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from service.config import Settings
from service.security.certificates import RegisteredCertificate, load_certificate
from service.security.xmldsig import (
    DS,
    SignatureFailure,
    Verified,
    _signed_info_c14n,
    carries_signature,
    cop_code_of,
    find_signature,
    verify_signature,
)
from tests.messages import builders
from tests.security import signing as s

CODE = "1105910159"  # the builders' BaseTransfer/copCode
REPO_ROOT = Path(__file__).resolve().parents[2]


@cache
def unsigned(xsi_on_root: bool = False) -> bytes:
    """A CEB621 message with one inventory, tab-indented as senders write them."""
    root = builders.message("CEB621Message", signed=False)
    etree.indent(root, "\t")
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    if xsi_on_root:
        body = body.replace(
            b"<ceb:CEB621Message ",
            b'<ceb:CEB621Message xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ',
        )
    return body


def verify(
    signed: bytes,
    certificates: list[RegisteredCertificate],
    now: dt.datetime = s.NOW,
    code: str | None = CODE,
) -> Verified:
    return verify_signature(etree.fromstring(signed), code, certificates, now)


def failure(
    signed: bytes, certificates: list[RegisteredCertificate], **kw: object
) -> SignatureFailure:
    with pytest.raises(SignatureFailure) as caught:
        verify(signed, certificates, **kw)  # type: ignore[arg-type]
    failed = caught.value
    assert failed.message.startswith(f"{failed.check}: "), failed.message
    return failed


def edit(signed: bytes, change: object) -> bytes:
    """The signed message parsed, changed by ``change(root)``, serialised again."""
    root = etree.fromstring(signed)
    change(root)  # type: ignore[operator]
    out: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return out


def sm2() -> s.Signer:
    return s.sm2_signer()


def rsa() -> s.Signer:
    return s.rsa_signer()


SM2_VARIANTS = {
    "sm3-raw": s.Variant(),
    "sm3-der": s.Variant(raw=False),
    "sha1-under-sm2": s.Variant(digest=s.SHA1),
    "w3-uri-sha1-eport": s.Variant(
        signature=s.SM2_SM3_W3, digest=s.SHA1, declare_on_signed_info=True, embed=True
    ),
    "w3-uri-sm3-der": s.Variant(signature=s.SM2_SM3_W3, raw=False),
    "wrapped-76": s.Variant(wrap=True, raw=False, embed=True),
    "c14n-transform": s.Variant(c14n_transform=True),
    "keyname-upper": s.Variant(key_name="upper"),
    "keyname-zeros": s.Variant(key_name="zeros"),
    "embedded-only": s.Variant(key_name=None, embed=True),
    "keyname-and-embedded": s.Variant(embed=True, wrap=True),
    "pretty-gacc-layout": s.Variant(pretty=True, wrap=True, embed=True),
    "whitespace-around-signature": s.Variant(surround=True, pretty=True),
    "w3-uri-sm3-digest": s.Variant(signature=s.SM2_SM3_W3, digest=s.SM3_W3),
    "default-namespace-dotnet": s.Variant(default_namespace=True, pretty=True, embed=True),
}
RSA_VARIANTS = {
    "rsa-sha256": s.RSA_SHA256_VARIANT,
    "rsa-sha1": s.Variant(signature=s.RSA_SHA1, digest=s.SHA1),
    "rsa-sha1-digest-sha256": s.Variant(signature=s.RSA_SHA1, digest=s.SHA256),
    "rsa-sha256-wrapped-embedded": s.RSA_SHA256_VARIANT.but(wrap=True, embed=True),
    "rsa-c14n-transform-upper": s.RSA_SHA256_VARIANT.but(c14n_transform=True, key_name="upper"),
    "rsa-surround-pretty": s.RSA_SHA256_VARIANT.but(surround=True, pretty=True),
    "rsa-default-namespace-dotnet": s.RSA_SHA256_VARIANT.but(default_namespace=True, pretty=True),
}


@pytest.mark.parametrize("name", sorted(SM2_VARIANTS))
def test_every_sm2_variant_verifies(name: str) -> None:
    variant = SM2_VARIANTS[name]
    signed = s.sign(unsigned(), sm2(), variant)
    result = verify(signed, [sm2().registered(CODE)])
    assert result.serial == sm2().info.serial == "03000000000cde6f"
    assert result.algorithms == {
        "canonicalization": s.C14N,
        "signature": variant.signature,
        "digest": variant.digest,
    }


@pytest.mark.parametrize("name", sorted(RSA_VARIANTS))
def test_every_rsa_variant_verifies(name: str) -> None:
    variant = RSA_VARIANTS[name]
    signed = s.sign(unsigned(), rsa(), variant)
    assert verify(signed, [rsa().registered(CODE)]).serial == rsa().info.serial == "0a1b2c"


def test_signed_info_keeps_every_namespace_in_scope() -> None:
    """xmlns:xsi declared on the root is rendered on SignedInfo by inclusive C14N: the
    signature covers it, so a verifier that rebuilt SignedInfo would fail this."""
    signed = s.sign(unsigned(xsi_on_root=True), sm2(), s.Variant())
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' in signed.split(b">")[1]
    assert verify(signed, [sm2().registered(CODE)]).serial == sm2().info.serial
    # the same SignedInfo without the root's declaration in scope is a different text
    moved = signed.replace(b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"', b"", 1)
    assert failure(moved, [sm2().registered(CODE)]).check in {"digest", "value"}


def test_the_certificate_is_picked_among_several_codes_and_rollover() -> None:
    others = [s.rsa_signer(0x99).registered(CODE), sm2().registered("3101960001")]
    signed = s.sign(unsigned(), sm2(), s.Variant())
    assert verify(signed, [*others, sm2().registered(CODE)]).serial == sm2().info.serial


def test_comments_are_not_signed() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant())
    commented = signed.replace(b"<ceb:BaseTransfer>", b"<!-- note --><ceb:BaseTransfer>")
    assert commented != signed
    assert verify(commented, [sm2().registered(CODE)]).serial == sm2().info.serial


# --- digest ------------------------------------------------------------------------------


@pytest.mark.parametrize("signer", [sm2, rsa])
def test_tampered_content_is_a_digest_failure(signer: object) -> None:
    chosen: s.Signer = signer()  # type: ignore[operator]
    variant = s.Variant() if chosen.algorithm == "sm2" else s.RSA_SHA256_VARIANT
    signed = s.sign(unsigned(), chosen, variant)
    tampered = signed.replace(b"<ceb:qty>2</ceb:qty>", b"<ceb:qty>3</ceb:qty>")
    assert tampered != signed
    failed = failure(tampered, [chosen.registered(CODE)])
    assert failed.check == "digest"
    assert failed.serial == chosen.info.serial
    assert failed.algorithms["digest"] == variant.digest
    assert "changed after signing" in failed.message


def test_reindented_content_is_a_digest_failure() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant(surround=True))

    def reindent(root: etree._Element) -> None:
        etree.indent(root, "  ")

    failed = failure(edit(signed, reindent), [sm2().registered(CODE)])
    assert failed.check == "digest"
    assert "re-indented" in failed.message


def test_whitespace_around_the_signature_is_digested() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant(surround=True))
    assert b"</ceb:BaseTransfer>\n\t<ds:Signature" in signed
    assert b"</ds:Signature>\n</ceb:CEB621Message>" in signed
    moved = signed.replace(b"</ds:Signature>\n</ceb", b"</ds:Signature></ceb")
    assert failure(moved, [sm2().registered(CODE)]).check == "digest"


# --- value -------------------------------------------------------------------------------


@pytest.mark.parametrize("signer", [sm2, rsa])
def test_corrupted_signature_value_is_a_value_failure(signer: object) -> None:
    chosen: s.Signer = signer()  # type: ignore[operator]
    variant = s.Variant() if chosen.algorithm == "sm2" else s.RSA_SHA256_VARIANT
    signed = s.sign(unsigned(), chosen, variant)

    def corrupt(root: etree._Element) -> None:
        value = root.find(f"{DS}Signature/{DS}SignatureValue")
        assert value is not None
        data = bytearray(base64.b64decode(value.text or ""))
        data[10] ^= 0x01
        value.text = base64.b64encode(bytes(data)).decode()

    failed = failure(edit(signed, corrupt), [chosen.registered(CODE)])
    assert failed.check == "value"
    assert failed.serial == chosen.info.serial


def test_signature_value_that_is_not_base64_is_a_value_failure() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant())

    def garble(root: etree._Element) -> None:
        value = root.find(f"{DS}Signature/{DS}SignatureValue")
        assert value is not None
        value.text = "not*base64!"

    failed = failure(edit(signed, garble), [sm2().registered(CODE)])
    assert (failed.check, "not base64") == ("value", failed.message.split(": ", 1)[1][-10:])


@pytest.mark.parametrize("kind", ["sm2", "rsa"])
def test_signed_with_another_key_is_a_value_failure(kind: str) -> None:
    registered = sm2() if kind == "sm2" else rsa()
    impostor = s.sm2_signer(0x77) if kind == "sm2" else s.rsa_signer(0x77)
    base = s.Variant() if kind == "sm2" else s.RSA_SHA256_VARIANT
    signed = s.sign(unsigned(), impostor, base.but(key_name=registered.info.serial))
    failed = failure(signed, [registered.registered(CODE), impostor.registered("9999999999")])
    assert failed.check == "value"
    assert failed.serial == registered.info.serial
    assert "another key" in failed.message


# --- algorithm ---------------------------------------------------------------------------


def _set_algorithm(tag: str, uri: str) -> object:
    def change(root: etree._Element) -> None:
        element = root.find(f".//{DS}{tag}")
        assert element is not None
        element.set("Algorithm", uri)

    return change


@pytest.mark.parametrize(
    ("tag", "uri", "key"),
    [
        ("SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "signature"),
        ("SignatureMethod", "http://www.chinaport.gov.cn/sm2-sm3", "signature"),
        ("DigestMethod", "http://www.w3.org/2001/04/xmlenc#sha512", "digest"),
        ("DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#sm3", "digest"),
        ("CanonicalizationMethod", "http://www.w3.org/2001/10/xml-exc-c14n#", "canonicalization"),
        (
            "CanonicalizationMethod",
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
            "canonicalization",
        ),
        ("CanonicalizationMethod", "http://www.w3.org/2006/12/xml-c14n11", "canonicalization"),
    ],
)
def test_unknown_algorithm_uris_are_algorithm_failures(tag: str, uri: str, key: str) -> None:
    signed = edit(s.sign(unsigned(), sm2(), s.Variant()), _set_algorithm(tag, uri))
    failed = failure(signed, [sm2().registered(CODE)])
    assert failed.check == "algorithm"
    assert failed.algorithms[key] == uri
    assert uri in failed.message


def test_a_digest_whose_length_does_not_fit_its_uri_is_an_algorithm_failure() -> None:
    """A SHA-1 digest labelled SM3 (as the GACC samples are)."""
    signed = s.sign(unsigned(), sm2(), s.Variant(digest=s.SHA1))
    mislabelled = edit(signed, _set_algorithm("DigestMethod", s.SM3))
    failed = failure(mislabelled, [sm2().registered(CODE)])
    assert failed.check == "algorithm"
    assert "20 bytes but SM3 digests are 32" in failed.message

    sha256_as_sha1 = edit(
        s.sign(unsigned(), rsa(), s.RSA_SHA256_VARIANT), _set_algorithm("DigestMethod", s.SHA1)
    )
    assert failure(sha256_as_sha1, [rsa().registered(CODE)]).check == "algorithm"


def _add_transform(uri: str, position: int | None = None, xpath: str | None = None) -> object:
    def change(root: etree._Element) -> None:
        transforms = root.find(f".//{DS}Transforms")
        assert transforms is not None
        transform = etree.Element(DS + "Transform", Algorithm=uri)
        if xpath is not None:
            etree.SubElement(transform, DS + "XPath").text = xpath
        transforms.insert(len(transforms) if position is None else position, transform)

    return change


@pytest.mark.parametrize(
    "change",
    [
        _add_transform("http://www.w3.org/TR/1999/REC-xpath-19991116", xpath="not(ancestor::x)"),
        _add_transform("http://www.w3.org/TR/1999/REC-xslt-19991116"),
        _add_transform("http://www.w3.org/2002/06/xmldsig-filter2"),
        _add_transform(s.C14N, position=0),  # C14N before the enveloped transform
        _add_transform("http://www.w3.org/2001/10/xml-exc-c14n#"),
    ],
    ids=["xpath", "xslt", "filter2", "c14n-first", "exc-c14n"],
)
def test_forbidden_transforms_are_algorithm_failures(change: object) -> None:
    failed = failure(edit(s.sign(unsigned(), sm2(), s.Variant()), change), [sm2().registered(CODE)])
    assert failed.check == "algorithm"
    assert "no XPath, no XSLT" in failed.message


def test_enveloped_transform_with_parameters_or_missing_is_refused() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant())

    def parameter(root: etree._Element) -> None:
        transform = root.find(f".//{DS}Transform")
        assert transform is not None
        etree.SubElement(transform, DS + "XPath").text = "true()"

    def drop(root: etree._Element) -> None:
        transforms = root.find(f".//{DS}Transforms")
        assert transforms is not None
        transforms.getparent().remove(transforms)  # type: ignore[union-attr]

    for change in (parameter, drop):
        assert failure(edit(signed, change), [sm2().registered(CODE)]).check == "algorithm"


def test_structural_faults_are_algorithm_failures() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant())
    registered = [sm2().registered(CODE)]

    def uri(root: etree._Element) -> None:
        root.find(f".//{DS}Reference").set("URI", "#doc")  # type: ignore[union-attr]

    def no_uri(root: etree._Element) -> None:
        del root.find(f".//{DS}Reference").attrib["URI"]  # type: ignore[union-attr]

    def two_references(root: etree._Element) -> None:
        reference = root.find(f".//{DS}Reference")
        assert reference is not None
        reference.addnext(etree.fromstring(etree.tostring(reference)))

    def two_signatures(root: etree._Element) -> None:
        root.append(etree.fromstring(etree.tostring(find_signature(root))))  # type: ignore[arg-type]

    def nested(root: etree._Element) -> None:
        signature = find_signature(root)
        assert signature is not None
        root.find(f"{builders.C}BaseTransfer").append(signature)  # type: ignore[union-attr]

    def no_value(root: etree._Element) -> None:
        value = root.find(f".//{DS}SignatureValue")
        assert value is not None
        value.getparent().remove(value)  # type: ignore[union-attr]

    for change, words in (
        (uri, 'URI=""'),
        (no_uri, 'URI=""'),
        (two_references, "exactly one ds:Reference"),
        (two_signatures, "2 ds:Signature elements"),
        (nested, "not a direct child"),
        (no_value, "exactly one ds:SignatureValue"),
    ):
        failed = failure(edit(signed, change), registered)
        assert failed.check == "algorithm", (change.__name__, failed.message)
        assert words in failed.message, (change.__name__, failed.message)


def test_a_signature_method_that_does_not_fit_the_key_is_an_algorithm_failure() -> None:
    signed = s.sign(unsigned(), rsa(), s.RSA_SHA256_VARIANT.but(key_name=sm2().info.serial))
    failed = failure(signed, [sm2().registered(CODE)])
    assert failed.check == "algorithm"
    assert failed.serial == sm2().info.serial
    assert "RSA signature but certificate 03000000000cde6f holds an SM2 key" in failed.message


# --- certificate -------------------------------------------------------------------------


def test_an_unregistered_certificate_is_a_certificate_failure() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant())
    failed = failure(signed, [rsa().registered(CODE)])
    assert failed.check == "certificate"
    assert failed.serial == "03000000000cde6f"
    assert f"no certificate with serial 03000000000cde6f is registered for {CODE}" in (
        failed.message
    )
    assert failure(signed, []).check == "certificate"


def test_expired_not_yet_valid_and_revoked_certificates_are_certificate_failures() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant())
    info = sm2().info
    later = info.not_after + dt.timedelta(days=1)
    expired = failure(signed, [sm2().registered(CODE)], now=later)
    assert (expired.check, expired.serial) == ("certificate", info.serial)
    assert "expired" in expired.message

    early = failure(signed, [sm2().registered(CODE)], now=info.not_before - dt.timedelta(days=1))
    assert early.check == "certificate" and "not valid before" in early.message

    revoked = failure(signed, [sm2().registered(CODE, revoked_at=s.NOW - dt.timedelta(hours=1))])
    assert revoked.check == "certificate" and "revoked" in revoked.message
    # revoked only after receipt: still valid at the time of receipt
    assert verify(signed, [sm2().registered(CODE, revoked_at=s.NOW + dt.timedelta(hours=1))])


def test_another_codes_certificate_is_a_certificate_failure() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant())
    failed = failure(signed, [sm2().registered("3101960001")])
    assert failed.check == "certificate"
    assert "registered for 3101960001, not for the message's copCode 1105910159" in (failed.message)
    assert failure(signed, [sm2().registered(CODE)], code=None).check == "certificate"


def test_an_embedded_certificate_that_is_not_registered_proves_nothing() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant(key_name=None, embed=True))
    failed = failure(signed, [s.sm2_signer(0x77).registered(CODE)])
    assert failed.check == "certificate"
    assert "proves nothing until it is registered" in failed.message


def test_an_embedded_certificate_contradicting_the_key_name_is_a_certificate_failure() -> None:
    other = s.sm2_signer(0x77)
    signed = s.sign(unsigned(), sm2(), s.Variant(embed_der=other.certificate))
    failed = failure(signed, [sm2().registered(CODE), other.registered(CODE)])
    assert failed.check == "certificate"
    assert "contradicts KeyName" in failed.message


def test_no_key_info_is_a_certificate_failure_naming_the_active_serials() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant(key_name=None))
    failed = failure(signed, [sm2().registered(CODE)])
    assert failed.check == "certificate"
    assert "names no certificate" in failed.message and "03000000000cde6f" in failed.message


def test_a_key_name_that_is_not_hex_is_a_certificate_failure() -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant(key_name="CN=someone"))
    assert failure(signed, [sm2().registered(CODE)]).check == "certificate"


# --- the caller's tree, and the helpers ---------------------------------------------------


@pytest.mark.parametrize("tamper", [False, True])
def test_verification_does_not_change_the_tree(tamper: bool) -> None:
    signed = s.sign(unsigned(), sm2(), s.Variant(surround=True, pretty=True))
    if tamper:
        signed = signed.replace(b"<ceb:qty>2</ceb:qty>", b"<ceb:qty>3</ceb:qty>")
    root = etree.fromstring(signed)
    before = etree.tostring(root)
    signature = find_signature(root)
    index = root.index(signature)  # type: ignore[arg-type]
    try:
        verify_signature(root, CODE, [sm2().registered(CODE)], s.NOW)
    except SignatureFailure as failed:
        assert tamper and failed.check == "digest"
    else:
        assert not tamper
    assert etree.tostring(root) == before
    assert find_signature(root) is signature and root.index(signature) == index  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "variant", [*SM2_VARIANTS.values(), *RSA_VARIANTS.values()], ids=[*SM2_VARIANTS, *RSA_VARIANTS]
)
def test_signed_info_is_canonicalised_as_the_c14n_recommendation_says(variant: s.Variant) -> None:
    """Against a C14N written from the W3C text, not by libxml2 (whose subtree C14N adds
    ``xmlns=""`` below a default-namespace SignedInfo)."""
    signer = rsa() if variant.signature.endswith(("rsa-sha256", "rsa-sha1")) else sm2()
    root = etree.fromstring(s.sign(unsigned(xsi_on_root=True), signer, variant))
    info = root.find(f"{DS}Signature/{DS}SignedInfo")
    assert info is not None
    assert _signed_info_c14n(info) == s.reference_c14n(info)


def test_a_default_namespace_signed_info_renders_no_empty_default_below_it() -> None:
    signed = s.sign(unsigned(), rsa(), s.RSA_SHA256_VARIANT.but(default_namespace=True))
    assert b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">' in signed
    info = etree.fromstring(signed).find(f"{DS}Signature/{DS}SignedInfo")
    assert info is not None
    canonical = _signed_info_c14n(info)
    assert canonical.startswith(b'<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#"')
    assert b'xmlns=""' not in canonical
    assert b"<Transform " in canonical


def test_failures_before_the_certificate_name_the_serial_key_name_names() -> None:
    registered = [sm2().registered(CODE)]
    signed = s.sign(unsigned(), sm2(), s.Variant(key_name="upper"))
    unknown = edit(signed, _set_algorithm("DigestMethod", "urn:unknown"))
    assert failure(unknown, registered).serial == sm2().info.serial

    def garble(root: etree._Element) -> None:
        value = root.find(f"{DS}Signature/{DS}SignatureValue")
        assert value is not None
        value.text = "not*base64!"

    garbled = failure(edit(signed, garble), registered)
    assert (garbled.check, garbled.serial) == ("value", sm2().info.serial)
    # a KeyName registered for another code is not the message's certificate: no serial
    assert failure(unknown, [sm2().registered("9999999999")]).serial is None


def test_a_signature_that_is_not_a_child_of_the_root_is_an_algorithm_failure() -> None:
    def misplace(root: etree._Element) -> None:
        signature = find_signature(root)
        assert signature is not None
        root.find("{*}BaseTransfer").append(signature)  # type: ignore[union-attr]

    moved = edit(s.sign(unsigned(), sm2(), s.Variant()), misplace)
    root = etree.fromstring(moved)
    assert find_signature(root) is None and carries_signature(root)
    failed = failure(moved, [sm2().registered(CODE)])
    assert failed.check == "algorithm"
    assert "not a direct child of the root" in failed.message
    assert failed.serial == sm2().info.serial
    assert not carries_signature(etree.fromstring(unsigned()))


def test_find_signature_and_cop_code() -> None:
    signed = etree.fromstring(s.sign(unsigned(), sm2(), s.Variant()))
    assert find_signature(signed) is not None and find_signature(signed) is signed[-1]
    assert find_signature(etree.fromstring(unsigned())) is None
    assert cop_code_of(signed) == CODE


# --- the official samples ----------------------------------------------------------------


def _samples() -> list[Path]:
    configured = Settings().reference_dir
    folder = (configured if configured.is_absolute() else REPO_ROOT / configured).resolve()
    return sorted((folder / "samples").glob("*/*.xml"))


@pytest.mark.reference
@pytest.mark.skipif(not _samples(), reason="official GACC reference folder not found")
def test_the_official_samples_placeholder_signatures_fail() -> None:
    checked = 0
    for path in _samples():
        root = etree.parse(str(path)).getroot()
        if find_signature(root) is None:
            continue
        certificates = []
        embedded = root.findtext(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
        code = cop_code_of(root)
        if embedded and code:  # registered, so that only the signature itself is judged
            der = base64.b64decode("".join(embedded.split()))
            certificates.append(RegisteredCertificate(code=code, info=load_certificate(der)))
        with pytest.raises(SignatureFailure) as caught:
            verify_signature(root, code, certificates, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        assert caught.value.check in {"algorithm", "digest", "value", "certificate"}
        checked += 1
        if path.name == "CEB621Message.xml":
            assert caught.value.check == "algorithm"
            assert "20 bytes but SM3 digests are 32" in caught.value.message
    assert checked >= 1
