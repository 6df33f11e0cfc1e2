"""Shared comparison helpers: how rules read, compare and show field values.

- ``exact()``: every amount computation runs in a wide, fixed decimal context, so a product of
  two 19-digit customs amounts is never silently rounded at the default 28 digits, and the
  result does not depend on whatever context the caller happened to set.
- ``show``: the text a finding carries. Decimals as fixed-point text, personal data masked.
- ``same``: declared-versus-declared equality across documents (exact; text compared after
  stripping; ``Pii`` by keyed digest).
- ``off``: computed-versus-declared equality, within the configured tolerance.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

from service.messages.documents import Pii, Value
from service.rules.findings import Comparison, Side

# 60 significant digits hold any product of two schema amounts (19 digits each) exactly;
# only divisions (tax rates, apportionment) are rounded, and always the same way.
_EXACT = Context(
    prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)

ZERO = Decimal(0)


@contextmanager
def exact() -> Iterator[None]:
    with localcontext(_EXACT):
        yield


def amount(value: Decimal | None) -> Decimal:
    """An optional amount as a number: customs leaves zero amounts (discount, freight) out."""
    return ZERO if value is None else value


def show(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Pii):
        return value.masked
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return value.strip() or None
    return str(value)


def _normal(value: Value) -> Value:
    if isinstance(value, str):
        return value.strip() or None
    return value


def same(left: Value, right: Value) -> bool:
    """Equality of two declared values: exact, whitespace around text ignored."""
    return _normal(left) == _normal(right)


def off(declared: Decimal | None, computed: Decimal, tolerance: Decimal) -> bool:
    """Whether a declared amount misses a computed one by more than ``tolerance``."""
    if declared is None:
        return True
    with exact():
        return abs(declared - computed) > tolerance


def side(document: str, field: str, value: Value) -> Side:
    return Side(document, field, show(value))


def pair(
    left_document: str,
    left_field: str,
    left_value: Value,
    right_document: str,
    right_field: str,
    right_value: Value,
) -> Comparison:
    return Comparison(
        side(left_document, left_field, left_value), side(right_document, right_field, right_value)
    )


def mismatches(
    left_document: str,
    left: object,
    right_document: str,
    right: object,
    names: tuple[str, ...],
) -> list[Comparison]:
    """Comparisons for each field in ``names`` (same name on both documents) that differs."""
    out: list[Comparison] = []
    for name in names:
        lv: Value = getattr(left, name)
        rv: Value = getattr(right, name)
        if not same(lv, rv):
            out.append(pair(left_document, name, lv, right_document, name, rv))
    return out
