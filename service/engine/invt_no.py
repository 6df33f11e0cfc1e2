"""清单编号 (invtNo, SPEC §10): the number every accepted inventory is given.

The official form: the inventory's 4-digit customs code, the 4-digit year, ``I`` or ``E``, a
9-digit sequence. The sequence is the bundle's id: unique without a counter to contend for
(every batch with an inventory would otherwise queue on one row), and the bundle is what the
number names — it is given once, with the bundle's first accepted inventory, and kept through
every later version.
"""

from __future__ import annotations

from datetime import datetime

from service.messages.receipts import CUSTOMS_TZ
from service.messages.registry import Direction

_SEQUENCE = 10**9
# A customs code that is not 4 digits (the schema allows any 4 characters) is written as
# zeros rather than letting the number take another shape.
_NO_CUSTOMS = "0000"


def invt_no_for(
    customs_code: str | None, direction: Direction, at: datetime, bundle_id: int
) -> str:
    usable = customs_code is not None and len(customs_code) == 4 and customs_code.isdigit()
    customs = customs_code if usable and customs_code else _NO_CUSTOMS
    year = at.astimezone(CUSTOMS_TZ).year
    return f"{customs}{year:04d}{direction.value}{bundle_id % _SEQUENCE:09d}"


def is_invt_no(value: str | None) -> bool:
    """Whether ``value`` has the 18-character shape of an invtNo."""
    return value is not None and len(value) == 18
