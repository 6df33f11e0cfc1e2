"""Which registered certificate ``ds:KeyInfo`` names (SPEC §11), and why none counts.

KeyName is the serial in hex, compared as a number; an embedded ``ds:X509Certificate`` counts
only when its DER bytes equal a registered one's, and must not contradict the KeyName. The
certificate must be the message's copCode's and active at the time of receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from cryptography import x509

from service.security.certificates import RegisteredCertificate, serial_hex, serial_number


def _why_inactive(cert: RegisteredCertificate, now: datetime) -> str:
    info = cert.info
    if cert.revoked_at is not None and now >= cert.revoked_at:
        return f"revoked at {cert.revoked_at.isoformat()}"
    if now < info.not_before:
        return f"not valid before {info.not_before.isoformat()}"
    return f"expired at {info.not_after.isoformat()}"


def _embedded_serial(der: bytes) -> str | None:
    try:
        return serial_hex(x509.load_der_x509_certificate(der).serial_number)
    except ValueError:
        return None


def named_certificates(
    key_names: list[str],
    embedded: list[bytes],
    cop_code: str | None,
    certificates: Sequence[RegisteredCertificate],
    now: datetime,
    failure: Callable[[str, str | None], Exception],
) -> list[RegisteredCertificate]:
    """The registered certificates of ``cop_code`` that KeyInfo (its ``key_names`` and
    ``embedded`` DER certificates) names, all active at ``now`` (several only when one serial
    is registered twice); else raises ``failure(why, serial)``, a ``certificate`` failure."""

    def fail(detail: str, serial: str | None = None) -> Exception:
        return failure(detail, serial)

    if not cop_code:
        raise fail("the message has no BaseTransfer/copCode to find its certificates by")
    own = [c for c in certificates if c.code == cop_code]
    if len(set(key_names)) > 1:
        raise fail(f"ds:KeyInfo names several KeyNames {key_names}: name one")
    registered_embedded = [c for c in certificates if c.info.der in embedded]
    if key_names:
        text = key_names[0]
        try:
            number = serial_number(text)
        except ValueError:
            raise fail(f"KeyName {text!r} is not a certificate serial in hex") from None
        named = [c for c in certificates if c.info.serial_number == number]
        label = named[0].info.serial if named else text
        if embedded:
            matching = [c for c in named if c.info.der in embedded]
            if not matching:
                serials = [_embedded_serial(der) or "unreadable" for der in embedded]
                same = any(s != "unreadable" and serial_number(s) == number for s in serials)
                raise fail(
                    f"the embedded ds:X509Certificate has serial {label} but is not the "
                    "certificate registered with that serial: send the registered one"
                    if same
                    else f"the embedded ds:X509Certificate (serial {', '.join(serials)}) "
                    f"contradicts KeyName {text!r}: send one certificate, consistently",
                    label,
                )
            named = matching
    elif embedded:
        named = registered_embedded
        if not named:
            serials = [_embedded_serial(der) or "unreadable" for der in embedded]
            raise fail(
                f"the embedded ds:X509Certificate (serial {', '.join(serials)}) is not "
                f"registered for {cop_code}: an embedded certificate proves nothing until it "
                "is registered (sandan certs add)",
                serials[0] if len(serials) == 1 else None,
            )
        label = named[0].info.serial
    else:
        usable = sorted(c.info.serial for c in own if c.active_at(now))
        raise fail(
            "ds:KeyInfo names no certificate: add ds:KeyName with the certificate serial "
            f"in hex (active for {cop_code}: {', '.join(usable) or 'none'})"
        )
    if not named:
        raise fail(f"no certificate with serial {label} is registered for {cop_code}", label)
    mine = [c for c in named if c.code == cop_code]
    if not mine:
        codes = sorted({c.code for c in named})
        raise fail(
            f"certificate {label} is registered for {', '.join(codes)}, not for the "
            f"message's copCode {cop_code}",
            label,
        )
    active = [c for c in mine if c.active_at(now)]
    if not active:
        raise fail(f"certificate {label} is {_why_inactive(mine[0], now)}", label)
    return active
