"""The SM2/SM3 binding to the system libcrypto, checked against gmssl (a pure-Python
implementation, test oracle only) and the ``openssl`` CLI."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from gmssl import sm2 as gm_sm2
from gmssl import sm3 as gm_sm3

from service.security import sm
from tests.security.signing import rsa_signer, sm2_signer

# SubjectPublicKeyInfo of an SM2 point: id-ecPublicKey, curve 1.2.156.10197.1.301, 04‖x‖y
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


def spki_point(certificate: bytes) -> bytes:
    """x‖y of the SM2 key in a certificate (the SPKI ends with the uncompressed point)."""
    public = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-pubkey", "-noout"],
        input=certificate,
        capture_output=True,
        check=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "DER"],
        input=public,
        capture_output=True,
        check=True,
    ).stdout
    assert der.startswith(SPKI_PREFIX) and len(der) == len(SPKI_PREFIX) + 65
    return der[-64:]


@pytest.mark.parametrize(
    "data", [b"", b"abc", b"abcd" * 16, os.urandom(1000), "报文".encode() * 333]
)
def test_sm3_matches_gmssl(data: bytes) -> None:
    assert sm.sm3(data).hex() == gm_sm3.sm3_hash(list(data))


def test_sm3_known_answer() -> None:
    # GM/T 0004-2012 example 1
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm.sm3(b"abc").hex() == expected


def test_own_signature_verifies_raw_and_der_and_not_when_altered() -> None:
    signer = sm2_signer()
    key = sm.SM2PublicKey.from_certificate(signer.certificate)
    assert signer.sm2_key is not None
    der = signer.sm2_key.sign(b"SignedInfo")
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert key.verify(b"SignedInfo", der)
    assert key.verify(b"SignedInfo", raw)
    assert sm.raw_to_der(raw) == der
    assert not key.verify(b"SignedInfo!", der)
    assert not key.verify(b"SignedInfo", raw[:-1] + bytes([raw[-1] ^ 1]))
    assert not key.verify(b"SignedInfo", b"not a signature at all")
    assert not key.verify(b"SignedInfo", b"")


def test_another_keys_signature_does_not_verify() -> None:
    other = sm2_signer(0x77)
    assert other.sm2_key is not None
    signature = other.sm2_key.sign(b"data")
    assert not sm.SM2PublicKey.from_certificate(sm2_signer().certificate).verify(b"data", signature)


def test_gmssl_signature_verifies_with_the_binding_and_ours_with_gmssl() -> None:
    private = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
    oracle = gm_sm2.CryptSM2(private_key=private, public_key="")
    public = oracle._kg(int(private, 16), oracle.ecc_table["g"])  # x‖y in hex
    oracle = gm_sm2.CryptSM2(private_key=private, public_key=public)
    key = sm.SM2PublicKey.from_spki(SPKI_PREFIX + bytes.fromhex("04" + public))
    raw = bytes.fromhex(oracle.sign_with_sm3(b"message"))
    assert len(raw) == 64
    assert key.verify(b"message", raw)
    assert key.verify(b"message", sm.raw_to_der(raw))
    assert not key.verify(b"messagf", raw)

    signer = sm2_signer()
    assert signer.sm2_key is not None
    ours = signer.sm2_key.sign(b"message")
    checker = gm_sm2.CryptSM2(
        private_key="", public_key=spki_point(signer.certificate).hex(), asn1=True
    )
    assert checker.verify_with_sm3(ours.hex(), b"message")
    assert not checker.verify_with_sm3(ours.hex(), b"messagf")


def test_openssl_cli_agrees(tmp_path: Path) -> None:
    signer = sm2_signer()
    assert signer.sm2_key is not None
    (tmp_path / "cert.der").write_bytes(signer.certificate)
    (tmp_path / "data").write_bytes(b"canonical SignedInfo")
    (tmp_path / "sig").write_bytes(signer.sm2_key.sign(b"canonical SignedInfo"))
    public = tmp_path / "pub.pem"
    subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-pubkey",
         "-noout", "-out", str(public)],
        check=True,
    )  # fmt: skip
    result = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin",
         "-in", str(tmp_path / "data"), "-sigfile", str(tmp_path / "sig"), "-digest", "sm3",
         "-pkeyopt", "distid:1234567812345678"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_keys_that_are_not_sm2_and_bytes_that_are_not_certificates_are_refused() -> None:
    with pytest.raises(sm.SMError, match="not an SM2 key"):
        sm.SM2PublicKey.from_certificate(rsa_signer().certificate)
    with pytest.raises(sm.SMError, match="not readable DER"):
        sm.SM2PublicKey.from_certificate(b"\x30\x03junk")
    with pytest.raises(sm.SMError, match="trailing bytes"):
        sm.SM2PublicKey.from_certificate(sm2_signer().certificate + b"\x00")
    with pytest.raises(ValueError, match="64 bytes"):
        sm.raw_to_der(b"\x01" * 63)


def test_concurrent_verification_under_one_key() -> None:
    signer = sm2_signer()
    assert signer.sm2_key is not None
    key = sm.SM2PublicKey.from_certificate(signer.certificate)
    messages = [f"message {i}".encode() for i in range(8)]
    signatures = [signer.sm2_key.sign(m) for m in messages]
    results: list[bool] = []

    def work(i: int) -> None:
        for _ in range(10):
            results.append(key.verify(messages[i], signatures[i]))
            results.append(not key.verify(messages[i], signatures[(i + 1) % 8]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 160 and all(results)


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_no_openssl_object_is_leaked() -> None:
    """Each loop would leak megabytes if a certificate, key, context or ECDSA_SIG stayed."""
    signer = sm2_signer()
    key = sm.SM2PublicKey.from_certificate(signer.certificate)
    raw = b"\x01" * 64

    def loops() -> None:
        for _ in range(3000):
            sm.SM2PublicKey.from_certificate(signer.certificate)
            sm.raw_to_der(raw)
            key.verify(b"data", raw)  # a context pair per call, and the signature fails
            sm.sm3(b"data")

    loops()  # allocator warm-up
    before = _rss()
    loops()
    assert _rss() - before < 2 * 2**20
