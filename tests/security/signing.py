"""A test signer: signs CEB messages the way real senders do (SPEC §11), in every variant the
verifier accepts, with keys and self-signed certificates of its own.

The order of work is the senders' (the e-port signer, Apache Santuario): the digest is taken
over the message *before* the signature exists; ``ds:Signature`` is then appended as the last
child of the root (after the whitespace that closed the last document); ``ds:SignedInfo`` is
canonicalised where it now sits and signed. The result is bytes, because the service verifies
what it parsed, not a tree the test built.

RSA keys and certificates come from ``cryptography``; SM2 ones from the ``openssl`` CLI (the
binding signs). Tests only: a raw r‖s value is cut out of the DER with Python integers here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree

from service.messages.registry import CEB_NS, DS_NS
from service.security import sm
from service.security.certificates import CertificateInfo, RegisteredCertificate, load_certificate

D = f"{{{DS_NS}}}"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SM3 = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3"
SM3_W3 = "http://www.w3.org/2000/09/xmldsig#sm3"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SM2_SM3 = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3"
SM2_SM3_W3 = "http://www.w3.org/2000/09/xmldsig#sm2-sm3"

_DIGESTS = {SHA1: hashlib.sha1, SHA256: hashlib.sha256}
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2034, 1, 1, tzinfo=dt.UTC)
# A time every test certificate is valid at: OpenSSL 3.0's ``req`` cannot backdate, so SM2
# certificates start when they are made and run ten years.
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


@dataclass(frozen=True)
class Signer:
    """A key and its self-signed certificate."""

    algorithm: str  # "rsa" | "sm2"
    certificate: bytes  # DER
    rsa_key: rsa.RSAPrivateKey | None = None
    sm2_key: sm.SM2PrivateKey | None = None

    @property
    def info(self) -> CertificateInfo:
        return load_certificate(self.certificate)

    def registered(self, code: str, revoked_at: dt.datetime | None = None) -> RegisteredCertificate:
        return RegisteredCertificate(code=code, info=self.info, revoked_at=revoked_at)

    def sign(self, data: bytes, signature_uri: str, *, raw: bool = True) -> bytes:
        if self.rsa_key is not None:
            algorithm = hashes.SHA1() if signature_uri == RSA_SHA1 else hashes.SHA256()
            return self.rsa_key.sign(data, padding.PKCS1v15(), algorithm)
        assert self.sm2_key is not None
        der = self.sm2_key.sign(data)
        if not raw:
            return der
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@cache
def rsa_signer(serial: int = 0x0A1B2C, bits: int = 2048) -> Signer:
    """An RSA key with a self-signed certificate valid 2024–2034 (cached per serial)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"rsa-{serial:x}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .sign(key, hashes.SHA256())
    )
    return Signer("rsa", cert.public_bytes(Encoding.DER), rsa_key=key)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@cache
def sm2_signer(serial: int = 0x03000000000CDE6F) -> Signer:
    """An SM2 key (``openssl genpkey``) with a self-signed SM2-with-SM3 certificate valid for
    ten years from now (cached per serial)."""
    with tempfile.TemporaryDirectory() as tmp:
        key, cert = Path(tmp, "key.der"), Path(tmp, "cert.der")
        _openssl("genpkey", "-algorithm", "SM2", "-outform", "DER", "-out", str(key))
        _openssl(
            "req", "-x509", "-new", "-key", str(key), "-keyform", "DER", "-sm3",
            "-sigopt", "distid:1234567812345678", "-subj", f"/CN=sm2-{serial:x}",
            "-set_serial", str(serial), "-days", "3650", "-outform", "DER", "-out", str(cert),
        )  # fmt: skip
        return Signer("sm2", cert.read_bytes(), sm2_key=sm.SM2PrivateKey.from_der(key.read_bytes()))


@dataclass(frozen=True)
class Variant:
    """How a sender writes its signature. The defaults are the e-port SM2 signer's output."""

    signature: str = SM2_SM3
    digest: str = SM3
    raw: bool = True  # SM2 value as 64 bytes r‖s (else DER)
    wrap: bool = False  # base64 wrapped at 76 columns, as Java encoders do
    c14n_transform: bool = False  # the enveloped transform followed by C14N 1.0
    key_name: str | None = "exact"  # "exact" | "upper" | "zeros" | a literal | None
    embed: bool = False  # the certificate in ds:X509Data/ds:X509Certificate
    embed_der: bytes | None = None  # embed this certificate instead of the signer's
    declare_on_signed_info: bool = False  # xmlns:ceb/ds/xsi on SignedInfo (Weasley-J signer)
    pretty: bool = False  # newlines between the signature's elements, as the GACC samples
    # the signature placed between whitespace of its own ("\n\t" before, "\n" after), as a
    # signer that inserts a template first: that whitespace is part of what was digested
    surround: bool = False
    # ``<Signature xmlns="…xmldsig#">``, no prefix (the .NET SignedXml style)
    default_namespace: bool = False

    def but(self, **changes: object) -> Variant:
        return replace(self, **changes)  # type: ignore[arg-type]


RSA_SHA256_VARIANT = Variant(signature=RSA_SHA256, digest=SHA256)


def _b64(data: bytes, wrap: bool) -> str:
    text = base64.b64encode(data).decode()
    return "\n" + "\n".join(textwrap.wrap(text, 76)) + "\n" if wrap else text


def digest(data: bytes, uri: str) -> bytes:
    return sm.sm3(data) if uri in (SM3, SM3_W3) else _DIGESTS[uri](data).digest()


def _key_name(signer: Signer, how: str) -> str:
    serial = signer.info.serial
    return {"exact": serial, "upper": serial.upper(), "zeros": "000" + serial}.get(how, how)


def _escape(text: str, attribute: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\t", "&#x9;").replace("\n", "&#xA;")
    else:
        text = text.replace(">", "&gt;")
    return text.replace("\r", "&#xD;")


def reference_c14n(
    element: etree._Element, parent_ns: dict[str | None, str] | None = None
) -> bytes:
    """Inclusive C14N 1.0 of ``element`` as a document subset, written from the W3C text
    rather than by libxml2, for trees of elements and text (what the signer builds): the apex
    renders every namespace in scope, a descendant those whose binding differs from its
    parent's; namespace declarations default first then by prefix, attributes by
    (namespace URI, local name). The oracle the verifier's SignedInfo canonicalisation is
    checked against."""
    apex = parent_ns is None
    scope = dict(element.nsmap)
    rendered = {p: uri for p, uri in scope.items() if apex or (parent_ns or {}).get(p) != uri}
    if not apex and None in (parent_ns or {}) and None not in scope:
        rendered[None] = ""
    declarations = [
        f'xmlns="{_escape(rendered[None], True)}"' if None in rendered else None,
        *(f'xmlns:{p}="{_escape(rendered[p], True)}"' for p in sorted(k for k in rendered if k)),
    ]

    def qualified(tag: str) -> tuple[str, str]:
        name = etree.QName(tag)
        return name.namespace or "", name.localname

    attributes = []
    for tag, value in sorted(element.attrib.items(), key=lambda kv: qualified(kv[0])):
        uri, local = qualified(tag)
        prefix = next((p for p, u in scope.items() if u == uri and p), None) if uri else None
        attributes.append(f'{prefix + ":" if prefix else ""}{local}="{_escape(value, True)}"')
    uri, local = qualified(element.tag)
    name = f"{element.prefix}:{local}" if element.prefix else local
    head = " ".join([name, *(d for d in declarations if d), *attributes])
    out = [f"<{head}>", _escape(element.text or "", False)]
    for child in element:
        if isinstance(child.tag, str):
            out.append(reference_c14n(child, scope).decode())
        out.append(_escape(child.tail or "", False))
    out.append(f"</{name}>")
    return "".join(out).encode()


def sign(message: bytes, signer: Signer, variant: Variant = Variant()) -> bytes:
    """``message`` (unsigned bytes) with an enveloped ds:Signature by ``signer``."""
    root = etree.fromstring(message)
    last = root[len(root) - 1]
    if variant.surround:
        last.tail = (last.tail or "") + "\t\n"  # the message as digested: only the element cut
    reference_digest = digest(
        etree.tostring(root.getroottree(), method="c14n", exclusive=False, with_comments=False),
        variant.digest,
    )
    nl = "\n" if variant.pretty else None
    prefix = None if variant.default_namespace else "ds"
    signature = etree.SubElement(root, D + "Signature", nsmap={prefix: DS_NS})
    if variant.surround:
        last.tail, signature.tail = last.tail[:-1], "\n"
    signature.text = nl
    nsmap = {"ceb": CEB_NS, "ds": DS_NS, "xsi": XSI_NS} if variant.declare_on_signed_info else None
    info = etree.SubElement(signature, D + "SignedInfo", nsmap=nsmap)
    info.text = nl

    def child(
        parent: etree._Element, tag: str, text: str | None = None, **attrs: str
    ) -> etree._Element:
        element = etree.SubElement(parent, D + tag, attrs)
        element.text = text
        element.tail = nl
        return element

    child(info, "CanonicalizationMethod", Algorithm=C14N)
    child(info, "SignatureMethod", Algorithm=variant.signature)
    reference = child(info, "Reference", URI="")
    reference.text = nl
    transforms = child(reference, "Transforms")
    transforms.text = nl
    child(transforms, "Transform", Algorithm=ENVELOPED)
    if variant.c14n_transform:
        child(transforms, "Transform", Algorithm=C14N)
    child(reference, "DigestMethod", Algorithm=variant.digest)
    child(reference, "DigestValue", _b64(reference_digest, False))
    info.tail = nl
    value = child(signature, "SignatureValue", "")
    if variant.key_name is not None or variant.embed or variant.embed_der:
        key_info = child(signature, "KeyInfo")
        key_info.text = nl
        if variant.key_name is not None:
            child(key_info, "KeyName", _key_name(signer, variant.key_name))
        if variant.embed or variant.embed_der:
            data = child(key_info, "X509Data")
            data.text = nl
            der = variant.embed_der or signer.certificate
            child(data, "X509Certificate", _b64(der, variant.wrap))
    signed = reference_c14n(info)
    value.text = _b64(signer.sign(signed, variant.signature, raw=variant.raw), variant.wrap)
    return etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True)
