"""Masking of personal data for people to read (UI, API, logs)."""

from __future__ import annotations

import re


def mask_id_number(value: str) -> str:
    """``110105194912310021`` -> ``1101**********0021``: enough to tell two apart by eye."""
    if len(value) <= 8:
        return value[:1] + "*" * max(len(value) - 2, 1) + value[-1:] if len(value) > 2 else "**"
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` -> ``138****5678``."""
    if len(value) <= 6:
        return "*" * len(value)
    keep_head = 3
    keep_tail = 4 if len(value) > 8 else 2
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[-keep_tail:]


_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE_LIKE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def scrub(text: str) -> str:
    """Mask anything in free text that looks like an ID or a mobile number (for logs)."""
    text = _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)
