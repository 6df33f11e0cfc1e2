"""Comparison helpers: exact decimals, display text, equality."""

from __future__ import annotations

from decimal import Decimal, getcontext, localcontext

from service.rules.compare import amount, exact, off, same, show
from tests.rules.factory import BUYER_ID, id_number, phone

D = Decimal


def test_show_keeps_decimals_as_written_and_never_in_exponent_form() -> None:
    assert show(D("946.880")) == "946.880"
    assert show(D("1E+3")) == "1000"
    assert show(D("0E-10")) == "0.0000000000"
    assert show(3) == "3"
    assert show(None) is None


def test_show_masks_personal_data() -> None:
    shown = show(id_number(BUYER_ID))
    assert shown == "1101**********002X"
    assert BUYER_ID not in str(shown)
    assert show(phone("13812345678")) == "138****5678"


def test_show_strips_text_and_empty_is_none() -> None:
    assert show("  李四 ") == "李四"
    assert show("   ") is None


def test_same_compares_numbers_digests_and_stripped_text() -> None:
    assert same(D("946.88"), D("946.880"))
    assert not same(D("946.88"), D("946.87"))
    assert same(id_number(BUYER_ID), id_number("11010519491231002x"))
    assert not same(id_number(BUYER_ID), id_number("440524188001010014"))
    assert not same(id_number(BUYER_ID), None)
    assert same(" 上海 ", "上海")
    assert same("", None)
    assert not same("上海", "上海市")


def test_off_is_strictly_beyond_the_tolerance() -> None:
    assert not off(D("10.00"), D("10.00"), D("0"))
    assert off(D("10.01"), D("10.00"), D("0"))
    assert not off(D("10.01"), D("10.00"), D("0.01"))
    assert not off(D("9.99"), D("10.00"), D("0.01"))
    assert off(D("10.02"), D("10.00"), D("0.01"))
    assert off(None, D("0"), D("1"))


def test_amount_reads_absent_as_zero() -> None:
    assert amount(None) == 0
    assert amount(D("1.5")) == D("1.5")


def test_exact_context_keeps_products_of_schema_sized_amounts() -> None:
    big = D("12345678912345.12345")  # the official CEB303 sample's goodsValue
    # big² = 1234567891234512345² × 10⁻¹⁰, all 37 digits (integer arithmetic, then the point)
    expected = D("152415787806723070341522482.9957399025")
    with localcontext() as narrow:
        narrow.prec = 28
        assert big * big != expected  # the default precision would round it
        with exact():
            assert big * big == expected
    assert getcontext().prec == 28  # and the caller's context is left alone
