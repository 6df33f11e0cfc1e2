"""Enveloped XML-DSig verification of a CEB message (SPEC §11), on the parsed tree.

Only the profile CEB senders use is accepted, and nothing around it: one ``ds:Signature``,
a direct child of the root; one ``ds:Reference URI=""`` whose transforms are the
enveloped-signature transform, optionally followed by C14N 1.0; inclusive C14N 1.0 without
comments for both the message and ``ds:SignedInfo``. Anything else (XPath, XSLT, other
canonicalisations, other references) is refused rather than interpreted, because every
extra feature of XML-DSig is a way to make a signature cover something other than the
message.

What is digested is the whole received document with the ``ds:Signature`` element removed
and nothing else: the whitespace around it stays, as the enveloped-signature transform
defines (the element's tail text, which lxml keeps with the element, is put back where it
was). That is done on a copy, so the caller's tree is never touched. ``ds:SignedInfo`` is
canonicalised as the received subtree it is: inclusive C14N of a document subset renders
every namespace in scope on its apex (the root's ``xmlns:ceb``, ``xmlns:ds``, whatever the
sender declared) and the ``xml:*`` attributes it inherits, which is exactly what the sender
signed; rebuilding it from parsed values would not be. The received element and its
descendants are copied as they are under an apex that declares those namespaces, and that
copy is canonicalised as a document: libxml2 2.14's subtree C14N writes a spurious
``xmlns=""`` on descendants when the default namespace is declared above the subtree's
parent (the .NET style ``<Signature xmlns="…xmldsig#">``), which would fail every such
signature as ``value``.

Checks run in this order, and the first that fails is reported: ``algorithm`` (structure,
URIs, digest length, signature method against the key), ``certificate`` (which registered
certificate ``ds:KeyInfo`` names, and whether it is active), ``digest``, ``value``.

Choices the SPEC leaves open:

- No usable ``ds:KeyInfo`` (no KeyName, no embedded certificate) is a ``certificate``
  failure that lists the code's active serials; the verifier does not try each one, because
  the SPEC's certificate is "the one KeyInfo names".
- A signature method that does not fit the certificate's key (RSA URI, SM2 certificate) is an
  ``algorithm`` failure: the URI is what the sender must change.
- A SignatureValue that is not base64 is a ``value`` failure; a malformed DigestValue is an
  ``algorithm`` one (like a digest of the wrong length).
- SM3 digests are accepted under both URI families SM2 signatures use in the wild: the
  SPEC's ``chinaport.gov.cn/2022/04/xmldsig#sm3`` and the W3C-namespace spelling
  ``w3.org/2000/09/xmldsig#sm3`` (beside ``xmldsig#sm2-sm3``).
- A ``ds:Signature`` anywhere but as a direct child of the root is an ``algorithm`` failure,
  not an unsigned message: a sender who put it inside ``BaseTransfer`` meant to sign.
- A failure found before the certificate is chosen (an algorithm, a SignatureValue that is
  not base64) still names the serial when ``ds:KeyName`` names a certificate registered for
  the copCode: the sender then knows which key the complaint is about.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from service.messages.registry import CEB_NS, DS_NS
from service.security.certificates import RegisteredCertificate, serial_number
from service.security.dsig_algorithms import DIGESTS, SIGNATURES, value_verifies
from service.security.dsig_keyinfo import named_certificates

DS = f"{{{DS_NS}}}"
C14N_1_0 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

CHECKS = ("digest", "value", "algorithm", "certificate")
_WHITESPACE = re.compile(rb"[ \t\r\n]+")
_COP_CODE = f"{{{CEB_NS}}}BaseTransfer/{{{CEB_NS}}}copCode"
_XML = "{http://www.w3.org/XML/1998/namespace}"


class SignatureFailure(Exception):
    """A signature that does not verify, and which check failed (SPEC §11).

    ``message`` is what the sender reads: it starts with the check and says what to fix;
    ``algorithms`` are the URIs seen (``canonicalization``, ``signature``, ``digest``, those
    present) and ``serial`` the certificate involved, when one is known.
    """

    def __init__(
        self, check: str, detail: str, algorithms: dict[str, str], serial: str | None = None
    ) -> None:
        assert check in CHECKS, check
        self.check = check
        self.message = f"{check}: {detail}"
        self.algorithms = dict(algorithms)
        self.serial = serial
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class Verified:
    """A signature that verified: under which certificate, with which algorithms."""

    serial: str
    algorithms: dict[str, str]


def find_signature(root: etree._Element) -> etree._Element | None:
    """The ``ds:Signature`` that is a direct child of the root (the first, if several), or
    None."""
    return root.find(DS + "Signature")


def carries_signature(root: etree._Element) -> bool:
    """Whether the message carries a ``ds:Signature`` at all, wherever it sits: what decides
    whether it is signed (a misplaced one is then refused by ``verify_signature``)."""
    if root.find(DS + "Signature") is not None:
        return True
    return next(root.iterdescendants(DS + "Signature"), None) is not None


def verify_signature(
    root: etree._Element,
    cop_code: str | None,
    certificates: Sequence[RegisteredCertificate],
    now: datetime,
) -> Verified:
    """Verify the enveloped signature of the message ``root`` under a certificate registered
    for ``cop_code`` and active at ``now`` (the time of receipt); ``SignatureFailure`` says
    why not. ``certificates`` may hold other codes' and inactive ones: they only sharpen the
    reason given."""
    seen: dict[str, str] = {}
    try:
        parts = _read(root, seen)
    except SignatureFailure as failure:
        if failure.serial is None:
            failure.serial = _named_serial(root, cop_code, certificates)
        raise
    candidates = named_certificates(
        parts.key_names,
        parts.embedded,
        cop_code,
        certificates,
        now,
        lambda detail, serial: SignatureFailure("certificate", detail, seen, serial),
    )
    kind, rsa_hash = SIGNATURES[seen["signature"]]
    serial = candidates[0].info.serial
    for cert in candidates:
        if cert.info.algorithm != kind:
            raise SignatureFailure(
                "algorithm",
                f"SignatureMethod {seen['signature']} is an {kind.upper()} signature but "
                f"certificate {cert.info.serial} holds an {cert.info.algorithm.upper()} key: "
                "sign with the method that fits the certificate",
                seen,
                cert.info.serial,
            )
    name, function, _ = DIGESTS[seen["digest"]]
    if not hmac.compare_digest(function(_message_c14n(root, parts.signature)), parts.digest):
        raise SignatureFailure(
            "digest",
            f"the {name} digest of the message does not match DigestValue: the document "
            "changed after signing (re-indented, re-encoded or edited?); sign the bytes "
            "you send, and send them unchanged",
            seen,
            serial,
        )
    signed_info = _signed_info_c14n(parts.signed_info)
    for cert in candidates:
        if value_verifies(cert, rsa_hash, signed_info, parts.value):
            return Verified(serial=cert.info.serial, algorithms=seen)
    raise SignatureFailure(
        "value",
        f"SignatureValue does not verify over the canonical SignedInfo under certificate "
        f"{serial}: the message was signed with another key, or SignedInfo or "
        "SignatureValue was altered",
        seen,
        serial,
    )


@dataclass(frozen=True, slots=True)
class _Parts:
    signature: etree._Element
    signed_info: etree._Element
    digest: bytes
    value: bytes
    key_names: list[str]
    embedded: list[bytes]


def _fail(detail: str, seen: dict[str, str]) -> SignatureFailure:
    return SignatureFailure("algorithm", detail, seen)


def _only(parent: etree._Element, tag: str, seen: dict[str, str]) -> etree._Element:
    found = parent.findall(DS + tag)
    if len(found) != 1:
        where = etree.QName(parent).localname
        raise _fail(f"ds:{where} must hold exactly one ds:{tag}, found {len(found)}", seen)
    return found[0]


def _b64(text: str | None) -> bytes:
    """Base64 with whitespace ignored (Java wraps at 76 columns), strict otherwise."""
    data = _WHITESPACE.sub(b"", (text or "").encode("ascii", "replace"))
    if not data:
        raise ValueError("empty")
    return base64.b64decode(data, validate=True)


def _read(root: etree._Element, seen: dict[str, str]) -> _Parts:
    """The signature's parts, with every structural rule and URI checked (``algorithm``)."""
    everywhere = list(root.iter(DS + "Signature"))
    signature = find_signature(root)
    if len(everywhere) > 1:
        raise _fail(
            f"the message carries {len(everywhere)} ds:Signature elements: exactly one is "
            "allowed, a direct child of the root",
            seen,
        )
    if signature is None:
        where = "is not a direct child of the root" if everywhere else "is missing"
        raise _fail(f"ds:Signature {where}: it must be a direct child of the root", seen)
    info = _only(signature, "SignedInfo", seen)
    c14n = _only(info, "CanonicalizationMethod", seen)
    method = _only(info, "SignatureMethod", seen)
    reference = _only(info, "Reference", seen)
    digest_method = _only(reference, "DigestMethod", seen)
    for key, element in (
        ("canonicalization", c14n),
        ("signature", method),
        ("digest", digest_method),
    ):
        uri = element.get("Algorithm")
        if uri is not None:
            seen[key] = uri
    if seen.get("canonicalization") != C14N_1_0:
        raise _fail(
            f"CanonicalizationMethod {seen.get('canonicalization')!r} is not accepted: use "
            f"{C14N_1_0} (canonical XML 1.0 without comments)",
            seen,
        )
    if seen.get("signature") not in SIGNATURES:
        raise _fail(
            f"unknown SignatureMethod {seen.get('signature')!r}: use one of "
            + ", ".join(SIGNATURES),
            seen,
        )
    if seen.get("digest") not in DIGESTS:
        raise _fail(
            f"unknown DigestMethod {seen.get('digest')!r}: use one of " + ", ".join(DIGESTS),
            seen,
        )
    if reference.get("URI") != "":
        raise _fail(
            f'ds:Reference must have URI="" (the whole message), not {reference.get("URI")!r}',
            seen,
        )
    _check_transforms(reference, seen)
    name, _, length = DIGESTS[seen["digest"]]
    try:
        digest = _b64(_only(reference, "DigestValue", seen).text)
    except (ValueError, binascii.Error):
        raise _fail("DigestValue is not base64", seen) from None
    if len(digest) != length:
        raise _fail(
            f"DigestValue holds {len(digest)} bytes but {name} digests are {length}: the "
            f"DigestMethod {seen['digest']} does not name the digest that was computed",
            seen,
        )
    try:
        value = _b64(_only(signature, "SignatureValue", seen).text)
    except (ValueError, binascii.Error):
        raise SignatureFailure("value", "SignatureValue is not base64", seen) from None
    key_names: list[str] = []
    embedded: list[bytes] = []
    key_infos = signature.findall(DS + "KeyInfo")
    if len(key_infos) > 1:
        raise _fail(f"ds:Signature holds {len(key_infos)} ds:KeyInfo, at most one", seen)
    for key_info in key_infos:
        key_names = [(k.text or "").strip() for k in key_info.findall(DS + "KeyName")]
        for text in key_info.findall(f"{DS}X509Data/{DS}X509Certificate"):
            try:
                embedded.append(_b64(text.text))
            except (ValueError, binascii.Error):
                raise SignatureFailure(
                    "certificate", "ds:X509Certificate is not base64", seen
                ) from None
    return _Parts(signature, info, digest, value, key_names, embedded)


def _check_transforms(reference: etree._Element, seen: dict[str, str]) -> None:
    containers = reference.findall(DS + "Transforms")
    transforms = containers[0].findall(DS + "Transform") if len(containers) == 1 else []
    uris = [t.get("Algorithm") for t in transforms]
    extra = [c for t in transforms for c in t if isinstance(c.tag, str)]
    if uris not in ([ENVELOPED], [ENVELOPED, C14N_1_0]) or extra or len(containers) != 1:
        raise _fail(
            f"the transforms must be the enveloped-signature transform ({ENVELOPED}), "
            f"optionally followed by C14N 1.0, and nothing else (no XPath, no XSLT); found "
            f"{uris}" + (" with parameters" if extra else ""),
            seen,
        )


def _message_c14n(root: etree._Element, signature: etree._Element) -> bytes:
    """C14N 1.0 without comments of the whole document (top-level PIs included) without the
    ``ds:Signature`` element: on a copy, and with the element's tail text kept in place."""
    index = root.index(signature)
    tree = copy.deepcopy(root.getroottree())
    copy_root = tree.getroot()
    cut = copy_root[index]
    tail = cut.tail
    if tail:
        if index > 0:
            before = copy_root[index - 1]
            before.tail = (before.tail or "") + tail
        else:
            copy_root.text = (copy_root.text or "") + tail
    copy_root.remove(cut)
    data: bytes = etree.tostring(tree, method="c14n", exclusive=False, with_comments=False)
    return data


def _signed_info_c14n(info: etree._Element) -> bytes:
    """Inclusive C14N 1.0 of the received ``ds:SignedInfo`` as a document subset: its
    descendants as received, under an apex carrying every namespace in scope and the
    ``xml:*`` attributes it inherits (see the module docstring for why not lxml's subtree
    C14N)."""
    attributes = dict(info.attrib)
    for ancestor in info.iterancestors():
        for name, value in ancestor.attrib.items():
            if name.startswith(_XML) and name not in attributes:
                attributes[name] = value
    apex = etree.Element(info.tag, attributes, nsmap=info.nsmap)
    apex.text = info.text
    for child in info:
        apex.append(copy.deepcopy(child))
    data: bytes = etree.tostring(apex, method="c14n", exclusive=False, with_comments=False)
    return data


def _named_serial(
    root: etree._Element, cop_code: str | None, certificates: Sequence[RegisteredCertificate]
) -> str | None:
    """The serial of the certificate registered for ``cop_code`` that the signature's
    ``ds:KeyName`` names, wherever the signature sits; None when there is no such one."""
    for signature in root.iter(DS + "Signature"):
        for text in signature.findall(f"{DS}KeyInfo/{DS}KeyName"):
            try:
                number = serial_number((text.text or "").strip())
            except ValueError:
                continue
            for cert in certificates:
                if cert.code == cop_code and cert.info.serial_number == number:
                    return cert.info.serial
    return None


def cop_code_of(root: etree._Element) -> str | None:
    """The message's ``BaseTransfer/copCode``: whose certificates the signature is checked
    against."""
    text = root.findtext(_COP_CODE)
    return text.strip() if text and text.strip() else None
