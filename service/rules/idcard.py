"""GB 11643-1999 citizen ID number check digit.

The check runs once, on the clear number at intake (the ``PiiProtector`` calls it and stores the
verdict as ``Pii.id_check``), because after intake only the masked form and a keyed digest
exist. The BUYER_ID_INVALID rule reads that verdict.
"""

from __future__ import annotations

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for each value of (Σ digit × weight) mod 11.
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def gb11643_valid(number: str) -> bool:
    """Whether ``number`` is 18 characters, 17 digits and the right check character.

    A lowercase ``x`` is accepted: buyers type it and it is the same number. Surrounding
    whitespace is not: the schema-checked field has none, and a padded value is not an ID.
    The 15-digit numbers of the 1980s are not accepted; customs requires the 18-digit form.
    """
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    return number[17].upper() == check_character(number[:17])
