"""``python -m loadtest.signature_bench``: what verifying a signature costs per message.

SPEC §11 asks that verification be C code and that its cost per message be reported. The
message is a typical CEB621 of the benchmark traffic (one inventory, a few items), signed
here as senders sign it: RSA-SHA256 over a SHA-256 digest (keys from ``cryptography``) and
SM2-SM3 over an SM3 digest with a raw r‖s value (key and certificate from the ``openssl``
CLI, signed by ``service.security.sm``). Parsing is not timed: intake parses every message
anyway. The timed parts are what ``verify_signature`` adds:

- c14n + digest: copy the document, cut the signature, canonicalise, digest;
- signature value: canonicalise SignedInfo in place and check the value under the key;
- total: ``verify_signature`` end to end (also finding the certificate, checking URIs).

Each figure is the median of several rounds of ``--iterations`` calls, printed with the
conditions it was measured under (CPU, load, OpenSSL versions).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml
from cryptography import x509
from cryptography.hazmat.backends.openssl.backend import backend as cryptography_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree

from loadtest.machine import cpu_model
from loadtest.traffic import TrafficConfig, messages, plan
from service.messages.registry import DS_NS
from service.security import dsig_algorithms, sm, xmldsig
from service.security.certificates import RegisteredCertificate, load_certificate

D = f"{{{DS_NS}}}"


@dataclass(frozen=True)
class Scheme:
    """One way of signing: URIs, a digest, a signing function and the certificate."""

    name: str
    signature_uri: str
    digest_uri: str
    digest: Callable[[bytes], bytes]
    sign: Callable[[bytes], bytes]
    certificate: bytes


def typical_message(seed: int = 11) -> bytes:
    """The first inventory message of the benchmark traffic, without any signature."""
    config = TrafficConfig(consignments=4, docs_per_message=1, seed=seed)
    for message in messages(config, plan(config)):
        if message.kind == "inventory":
            root = etree.fromstring(message.body)
            for old in root.findall(D + "Signature"):
                root.remove(old)
            body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
            return body
    raise RuntimeError("the traffic has no inventory message")


def rsa_scheme() -> Scheme:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-rsa")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x0A1B2C)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return Scheme(
        "RSA-2048 rsa-sha256 / sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmlenc#sha256",
        lambda data: hashlib.sha256(data).digest(),
        lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
        cert.public_bytes(Encoding.DER),
    )


def sm2_scheme() -> Scheme:
    with tempfile.TemporaryDirectory() as tmp:
        key_file, cert_file = Path(tmp, "key.der"), Path(tmp, "cert.der")
        run = ["openssl", "genpkey", "-algorithm", "SM2", "-outform", "DER", "-out", str(key_file)]
        subprocess.run(run, check=True, capture_output=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-new", "-key", str(key_file), "-keyform", "DER", "-sm3",
             "-sigopt", "distid:1234567812345678", "-subj", "/CN=bench-sm2",
             "-set_serial", "0x03000000000cde6f", "-days", "365", "-outform", "DER",
             "-out", str(cert_file)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        key = sm.SM2PrivateKey.from_der(key_file.read_bytes())
        certificate = cert_file.read_bytes()

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(data))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return Scheme(
        "SM2 sm2-sm3 / sm3 (raw r‖s)",
        "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3",
        "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3",
        sm.sm3,
        sign,
        certificate,
    )


def sign(message: bytes, scheme: Scheme, serial: str) -> bytes:
    """``message`` with an enveloped signature, made as the e-port signer makes it."""
    root = etree.fromstring(message)
    c14n = etree.tostring(root.getroottree(), method="c14n", exclusive=False, with_comments=False)
    signature = etree.SubElement(root, D + "Signature", nsmap={"ds": DS_NS})
    info = etree.SubElement(signature, D + "SignedInfo")
    etree.SubElement(info, D + "CanonicalizationMethod", Algorithm=xmldsig.C14N_1_0)
    etree.SubElement(info, D + "SignatureMethod", Algorithm=scheme.signature_uri)
    reference = etree.SubElement(info, D + "Reference", URI="")
    transforms = etree.SubElement(reference, D + "Transforms")
    etree.SubElement(transforms, D + "Transform", Algorithm=xmldsig.ENVELOPED)
    etree.SubElement(reference, D + "DigestMethod", Algorithm=scheme.digest_uri)
    value = base64.b64encode(scheme.digest(c14n)).decode()
    etree.SubElement(reference, D + "DigestValue").text = value
    signature_value = etree.SubElement(signature, D + "SignatureValue")
    key_info = etree.SubElement(signature, D + "KeyInfo")
    etree.SubElement(key_info, D + "KeyName").text = serial
    signed_info = etree.tostring(info, method="c14n", exclusive=False, with_comments=False)
    signature_value.text = base64.b64encode(scheme.sign(signed_info)).decode()
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body


def microseconds(call: Callable[[], object], iterations: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean µs per call of ``iterations`` calls."""
    call()  # warm-up: key caches, first allocation
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(iterations):
            call()
        samples.append((time.perf_counter() - started) / iterations * 1e6)
    return statistics.median(samples)


def conditions() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"cpu {cpu_model()}, {os.cpu_count()} cpus, load {load}; "
        f"libcrypto (SM2/SM3) {sm.OPENSSL_VERSION}; "
        f"cryptography (RSA) {cryptography_backend.openssl_version_text()}; "
        f"lxml {lxml.__version__} / libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}; "
        f"python {platform.python_version()}"
    )


def measure(scheme: Scheme, message: bytes, iterations: int, rounds: int) -> dict[str, float]:
    """µs per message of each part of verification under ``scheme``."""
    info = load_certificate(scheme.certificate)
    registered = RegisteredCertificate(code="bench", info=info)
    root = etree.fromstring(sign(message, scheme, info.serial))
    now = datetime.now(UTC)
    signature = xmldsig.find_signature(root)
    assert signature is not None
    verified = xmldsig.verify_signature(root, "bench", [registered], now)  # it must verify
    assert verified.serial == info.serial
    signed_info = signature.find(D + "SignedInfo")
    value = base64.b64decode(signature.findtext(D + "SignatureValue") or "")
    rsa_hash = dsig_algorithms.SIGNATURES[scheme.signature_uri][1]

    def digest() -> bytes:
        return scheme.digest(xmldsig._message_c14n(root, signature))

    def signature_value() -> bool:
        canonical = etree.tostring(signed_info, method="c14n", exclusive=False, with_comments=False)
        return dsig_algorithms.value_verifies(registered, rsa_hash, canonical, value)

    assert signature_value()
    return {
        "c14n + digest": microseconds(digest, iterations, rounds),
        "signature value": microseconds(signature_value, iterations, rounds),
        "total": microseconds(
            lambda: xmldsig.verify_signature(root, "bench", [registered], now), iterations, rounds
        ),
    }


def verification_costs(iterations: int = 100, rounds: int = 3) -> dict[str, dict[str, float]]:
    """µs per message of each part of verification, per scheme (for the bench report)."""
    message = typical_message()
    return {
        scheme.name: measure(scheme, message, iterations, rounds)
        for scheme in (rsa_scheme(), sm2_scheme())
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m loadtest.signature_bench", description=__doc__)
    p.add_argument("--iterations", type=int, default=500, help="calls per round")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the median is printed")
    args = p.parse_args()
    message = typical_message()
    print(f"conditions: {conditions()}", flush=True)
    print(f"message: CEB621, {len(message)} bytes unsigned, one inventory", flush=True)
    for scheme in (rsa_scheme(), sm2_scheme()):
        figures = measure(scheme, message, args.iterations, args.rounds)
        print(
            f"{scheme.name}: "
            + ", ".join(f"{part} {us:.0f} µs" for part, us in figures.items())
            + " per message",
            flush=True,
        )


if __name__ == "__main__":
    main()
