"""SM3 digests and SM2 signatures (SPEC §11) through the system libcrypto (OpenSSL 3).

``cryptography`` has no SM2 public keys, and verification must be C code, never a Python
big-number loop; so this is a thin ctypes binding to the few OpenSSL calls it takes. Every
OpenSSL object made here is freed before the call returns (or, for a key, when its Python
object is collected), every return code is checked, and nothing mutable is shared between
calls: each verification makes its own contexts, so threads may verify concurrently under
one key (OpenSSL allows a key to be used read-only from several threads).

SM2 signatures are over SM3 with the signer id ``1234567812345678`` (GM/T 0009's default,
what every CEB signer uses). A signature value of exactly 64 bytes is raw r‖s (the e-port
key's output) and is re-encoded as DER by OpenSSL's own ECDSA_SIG functions; anything else is
handed to OpenSSL as DER. ``SM2PrivateKey`` signs: the service never needs it, the tests and
the benchmark do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import weakref
from typing import Any

DEFAULT_SIGNER_ID = b"1234567812345678"
SM3_SIZE = 32
RAW_SIGNATURE_SIZE = 64


class SMError(RuntimeError):
    """OpenSSL refused an operation for a reason other than a signature that does not verify
    (a key that is not SM2, an unreadable certificate, a library without SM2)."""


def _load() -> ctypes.CDLL:
    """The system libcrypto, version 3 (the SM2 calls used here are OpenSSL 3 API)."""
    for name in (ctypes.util.find_library("crypto"), "libcrypto.so.3"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.OpenSSL_version_num.restype = ctypes.c_ulong
        if lib.OpenSSL_version_num() >> 28 >= 3:
            return lib
    raise SMError("OpenSSL 3 libcrypto (libcrypto.so.3) not found: SM2/SM3 need it")


_lib = _load()
_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_buf = ctypes.c_char_p
_SIGNATURES: list[tuple[str, Any, list[Any]]] = [
    ("OpenSSL_version", ctypes.c_char_p, [ctypes.c_int]),
    ("ERR_get_error", ctypes.c_ulong, []),
    ("ERR_clear_error", None, []),
    ("ERR_error_string_n", None, [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t]),
    ("EVP_sm3", _p, []),
    (
        "EVP_Digest",
        ctypes.c_int,
        [_buf, ctypes.c_size_t, _buf, ctypes.POINTER(ctypes.c_uint), _p, _p],
    ),
    ("d2i_X509", _p, [_p, _pp, ctypes.c_long]),
    ("X509_free", None, [_p]),
    ("X509_get_pubkey", _p, [_p]),
    ("d2i_PUBKEY", _p, [_p, _pp, ctypes.c_long]),
    ("d2i_AutoPrivateKey", _p, [_p, _pp, ctypes.c_long]),
    ("EVP_PKEY_free", None, [_p]),
    ("EVP_PKEY_is_a", ctypes.c_int, [_p, ctypes.c_char_p]),
    ("EVP_PKEY_CTX_new", _p, [_p, _p]),
    ("EVP_PKEY_CTX_free", None, [_p]),
    ("EVP_PKEY_CTX_set1_id", ctypes.c_int, [_p, _buf, ctypes.c_int]),
    ("EVP_MD_CTX_new", _p, []),
    ("EVP_MD_CTX_free", None, [_p]),
    ("EVP_MD_CTX_set_pkey_ctx", None, [_p, _p]),
    ("EVP_DigestVerifyInit", ctypes.c_int, [_p, _pp, _p, _p, _p]),
    ("EVP_DigestVerify", ctypes.c_int, [_p, _buf, ctypes.c_size_t, _buf, ctypes.c_size_t]),
    ("EVP_DigestSignInit", ctypes.c_int, [_p, _pp, _p, _p, _p]),
    (
        "EVP_DigestSign",
        ctypes.c_int,
        [_p, _buf, ctypes.POINTER(ctypes.c_size_t), _buf, ctypes.c_size_t],
    ),
    ("BN_bin2bn", _p, [_buf, ctypes.c_int, _p]),
    ("BN_free", None, [_p]),
    ("ECDSA_SIG_new", _p, []),
    ("ECDSA_SIG_free", None, [_p]),
    ("ECDSA_SIG_set0", ctypes.c_int, [_p, _p, _p]),
    ("i2d_ECDSA_SIG", ctypes.c_int, [_p, _pp]),
]
for _name, _restype, _argtypes in _SIGNATURES:
    _function = getattr(_lib, _name)
    _function.restype = _restype
    _function.argtypes = _argtypes

OPENSSL_VERSION: str = _lib.OpenSSL_version(0).decode()


def _error(what: str) -> SMError:
    """An ``SMError`` naming the failed call and OpenSSL's first queued reason (the queue is
    per thread; it is emptied so that no stale reason is reported by a later call)."""
    code = _lib.ERR_get_error()
    reason = ""
    if code:
        text = ctypes.create_string_buffer(256)
        _lib.ERR_error_string_n(code, text, len(text))
        reason = f": {text.value.decode(errors='replace')}"
    _lib.ERR_clear_error()
    return SMError(f"{what} failed{reason}")


def _sm3_md() -> int:
    md = _lib.EVP_sm3()
    if not md:
        raise _error("EVP_sm3 (this libcrypto has no SM3)")
    return int(md)


def sm3(data: bytes) -> bytes:
    """The SM3 digest of ``data`` (32 bytes)."""
    out = ctypes.create_string_buffer(SM3_SIZE)
    size = ctypes.c_uint(0)
    if _lib.EVP_Digest(data, len(data), out, ctypes.byref(size), _sm3_md(), None) != 1:
        raise _error("EVP_Digest(SM3)")
    if size.value != SM3_SIZE:
        raise SMError(f"SM3 digest of {size.value} bytes, expected {SM3_SIZE}")
    return out.raw


def raw_to_der(raw: bytes) -> bytes:
    """A 64-byte r‖s signature as the DER ``SEQUENCE { r INTEGER, s INTEGER }`` OpenSSL reads,
    made by BN_bin2bn / ECDSA_SIG_set0 / i2d_ECDSA_SIG."""
    if len(raw) != RAW_SIGNATURE_SIZE:
        raise ValueError(f"a raw SM2 signature is {RAW_SIGNATURE_SIZE} bytes, not {len(raw)}")
    half = RAW_SIGNATURE_SIZE // 2
    sig = _lib.ECDSA_SIG_new()
    if not sig:
        raise _error("ECDSA_SIG_new")
    try:
        r = _lib.BN_bin2bn(raw[:half], half, None)
        s = _lib.BN_bin2bn(raw[half:], half, None) if r else None
        if not r or not s:
            _lib.BN_free(r)
            raise _error("BN_bin2bn")
        if _lib.ECDSA_SIG_set0(sig, r, s) != 1:  # on success sig owns r and s
            _lib.BN_free(r)
            _lib.BN_free(s)
            raise _error("ECDSA_SIG_set0")
        size = _lib.i2d_ECDSA_SIG(sig, None)
        if size <= 0:
            raise _error("i2d_ECDSA_SIG")
        out = ctypes.create_string_buffer(size)
        cursor = ctypes.c_void_p(ctypes.addressof(out))
        if _lib.i2d_ECDSA_SIG(sig, ctypes.byref(cursor)) != size:
            raise _error("i2d_ECDSA_SIG")
        return out.raw
    finally:
        _lib.ECDSA_SIG_free(sig)


def _d2i(function: Any, der: bytes, what: str) -> int:
    """Call an OpenSSL ``d2i_*`` on all of ``der``; trailing bytes are refused."""
    data = ctypes.create_string_buffer(der, len(der))
    start = ctypes.addressof(data)
    cursor = ctypes.c_void_p(start)
    obj = function(None, ctypes.byref(cursor), len(der))
    if not obj:
        raise _error(f"{what}: not readable DER")
    if (cursor.value or 0) - start != len(der):
        _free_for(function)(obj)
        raise SMError(f"{what}: trailing bytes after the DER structure")
    return int(obj)


def _free_for(function: Any) -> Any:
    return _lib.X509_free if function is _lib.d2i_X509 else _lib.EVP_PKEY_free


class _Key:
    """An EVP_PKEY that must be SM2, freed when this object is collected."""

    def __init__(self, pkey: int) -> None:
        if _lib.EVP_PKEY_is_a(pkey, b"SM2") != 1:
            _lib.EVP_PKEY_free(pkey)
            _lib.ERR_clear_error()
            raise SMError("the key is not an SM2 key (its curve is not SM2)")
        self._pkey = pkey
        weakref.finalize(self, _lib.EVP_PKEY_free, pkey)

    def _contexts(self) -> tuple[int, int]:
        """A fresh EVP_MD_CTX with its own EVP_PKEY_CTX carrying the signer id; the caller
        frees both (the MD context does not own a PKEY context given by set_pkey_ctx)."""
        pctx = _lib.EVP_PKEY_CTX_new(self._pkey, None)
        if not pctx:
            raise _error("EVP_PKEY_CTX_new")
        if _lib.EVP_PKEY_CTX_set1_id(pctx, DEFAULT_SIGNER_ID, len(DEFAULT_SIGNER_ID)) != 1:
            _lib.EVP_PKEY_CTX_free(pctx)
            raise _error("EVP_PKEY_CTX_set1_id")
        mctx = _lib.EVP_MD_CTX_new()
        if not mctx:
            _lib.EVP_PKEY_CTX_free(pctx)
            raise _error("EVP_MD_CTX_new")
        _lib.EVP_MD_CTX_set_pkey_ctx(mctx, pctx)
        return int(mctx), int(pctx)


class SM2PublicKey(_Key):
    """An SM2 public key, read once from a certificate and used for any number of checks."""

    @classmethod
    def from_certificate(cls, der: bytes) -> SM2PublicKey:
        """The key of a DER X.509 certificate (``d2i_X509`` + ``X509_get_pubkey``)."""
        x509 = _d2i(_lib.d2i_X509, der, "d2i_X509")
        try:
            pkey = _lib.X509_get_pubkey(x509)  # a new reference, ours to free
            if not pkey:
                raise _error("X509_get_pubkey")
        finally:
            _lib.X509_free(x509)
        return cls(int(pkey))

    @classmethod
    def from_spki(cls, der: bytes) -> SM2PublicKey:
        """The key of a DER SubjectPublicKeyInfo (``d2i_PUBKEY``)."""
        return cls(_d2i(_lib.d2i_PUBKEY, der, "d2i_PUBKEY"))

    def verify(self, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (64 bytes r‖s, or DER) is this key's SM2-with-SM3 signature
        of ``data``. A malformed value is simply one that does not verify."""
        if len(signature) == RAW_SIGNATURE_SIZE:
            signature = raw_to_der(signature)
        mctx, pctx = self._contexts()
        try:
            if _lib.EVP_DigestVerifyInit(mctx, None, _sm3_md(), None, self._pkey) != 1:
                raise _error("EVP_DigestVerifyInit")
            result: int = _lib.EVP_DigestVerify(mctx, signature, len(signature), data, len(data))
        finally:
            _lib.EVP_MD_CTX_free(mctx)
            _lib.EVP_PKEY_CTX_free(pctx)
        if result != 1:
            _lib.ERR_clear_error()  # 0: does not verify; < 0: not a signature at all
        return result == 1


class SM2PrivateKey(_Key):
    """An SM2 private key that signs (tests and benchmark only: the service only verifies)."""

    @classmethod
    def from_der(cls, der: bytes) -> SM2PrivateKey:
        """A PKCS#8 (or SEC1) DER private key, e.g. ``openssl genpkey -algorithm SM2
        -outform DER``."""
        return cls(_d2i(_lib.d2i_AutoPrivateKey, der, "d2i_AutoPrivateKey"))

    def sign(self, data: bytes) -> bytes:
        """The DER SM2-with-SM3 signature of ``data`` (randomised: differs on every call)."""
        mctx, pctx = self._contexts()
        try:
            if _lib.EVP_DigestSignInit(mctx, None, _sm3_md(), None, self._pkey) != 1:
                raise _error("EVP_DigestSignInit")
            size = ctypes.c_size_t(0)
            if _lib.EVP_DigestSign(mctx, None, ctypes.byref(size), data, len(data)) != 1:
                raise _error("EVP_DigestSign (size)")
            out = ctypes.create_string_buffer(size.value)
            if _lib.EVP_DigestSign(mctx, out, ctypes.byref(size), data, len(data)) != 1:
                raise _error("EVP_DigestSign")
            return out.raw[: size.value]
        finally:
            _lib.EVP_MD_CTX_free(mctx)
            _lib.EVP_PKEY_CTX_free(pctx)


def sm2_verify(certificate_der: bytes, data: bytes, signature: bytes) -> bool:
    """One-off check under a certificate's key (callers that verify often keep the key)."""
    return SM2PublicKey.from_certificate(certificate_der).verify(data, signature)
