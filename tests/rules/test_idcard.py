"""GB 11643 check digit."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from service.rules.idcard import check_character, gb11643_valid
from tests.rules.factory import BUYER_ID


def test_the_standards_own_example_is_valid() -> None:
    # 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 × 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    # = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 → "10X98765432"[2] = X
    assert check_character("11010519491231002") == "X"
    assert gb11643_valid("11010519491231002X")
    assert BUYER_ID == "11010519491231002X"


def test_lowercase_x_is_the_same_number() -> None:
    assert gb11643_valid("11010519491231002x")


@pytest.mark.parametrize("number", ["440524188001010014", "110101199003070038"])
def test_numeric_check_digits(number: str) -> None:
    # 440524188001010014: Σ = 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 → 4
    # 110101199003070038: Σ = 7+9+0+5+0+4+2+9+54+0+0+27+0+35+0+0+6 = 158; 158 mod 11 = 4 → 8
    assert gb11643_valid(number)


def test_official_ceb311_sample_buyer_id_fails() -> None:
    # 1 3 0 6 8 1 1 3 6 2 5 0 0 2 3 3 3 × weights = 7+27+0+30+64+4+2+3+36+6+35+0+0+10+24+12+6
    # = 266; 266 mod 11 = 2 → the check character should be X, the sample says 2.
    assert check_character("13068113625002333") == "X"
    assert not gb11643_valid("130681136250023332")


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check digit (should be X)
        "11010519491231002",  # 17 characters
        "11010519491231002X0",  # 19 characters
        "110105491231002",  # the old 15-digit form
        "1101051949123100AX",  # a letter in the body
        "X1010519491231002X",
        "１１０１０５１９４９１２３１００２X",  # full-width digits are digits to str.isdigit
        " 11010519491231002X",
        "",
    ],
)
def test_invalid_numbers(number: str) -> None:
    assert not gb11643_valid(number)


def test_check_character_refuses_a_wrong_body() -> None:
    with pytest.raises(ValueError):
        check_character("1101051949123100")


_BODIES = st.text(alphabet="0123456789", min_size=17, max_size=17)


@given(_BODIES, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(body: str, position: int, delta: int) -> None:
    # Every weight is non-zero mod 11 (11 is prime), so changing one digit always changes Σ.
    number = body + check_character(body)
    changed = str((int(body[position]) + delta) % 10)
    spoiled = body[:position] + changed + body[position + 1 :] + number[17]
    assert gb11643_valid(number)
    assert not gb11643_valid(spoiled)


@given(_BODIES, st.integers(0, 15))
def test_any_adjacent_swap_is_caught(body: str, position: int) -> None:
    # Neighbouring weights differ mod 11, so swapping two different digits changes Σ.
    assume(body[position] != body[position + 1])
    number = body + check_character(body)
    swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
    assert not gb11643_valid(swapped + number[17])
