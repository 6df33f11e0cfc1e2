"""汇总申请编号 (sumNo, SPEC §10): the number Sandan gives an accepted export summary.

18 characters like the invtNo it is modelled on (``engine.invt_no``): the summary's 4-digit
customs code, the 4-digit year (Beijing time), ``S``, and a 9-digit sequence — the summary
row's id, unique without a counter to contend for. ``15012026S000000042``.
"""

from __future__ import annotations

from datetime import datetime

from service.messages.receipts import CUSTOMS_TZ

_SEQUENCE = 10**9
_NO_CUSTOMS = "0000"


def sum_no_for(customs_code: str | None, at: datetime, summary_id: int) -> str:
    usable = customs_code is not None and len(customs_code) == 4 and customs_code.isdigit()
    customs = customs_code if usable and customs_code else _NO_CUSTOMS
    year = at.astimezone(CUSTOMS_TZ).year
    return f"{customs}{year:04d}S{summary_id % _SEQUENCE:09d}"


def is_sum_no(value: str | None) -> bool:
    return (
        value is not None
        and len(value) == 18
        and value[:8].isdigit()
        and value[8] == "S"
        and value[9:].isdigit()
    )
