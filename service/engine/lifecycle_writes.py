"""What lifecycle documents (SPEC §10) leave in a batch for its deciding step, and the time
limits they are judged by; held by ``BatchState``, filled by ``engine.lifecycle``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Row = dict[str, Any]

# States in which nothing more is decided: the engine does not judge these bundles again.
AFTER_DECISION = frozenset({"cancelled", "returned", "closed"})


@dataclass(frozen=True, slots=True)
class Windows:
    """The configured time limits (``Settings.cancel_window_days`` and the return windows)."""

    cancel_days: float | None = None
    return_days: float = 30
    export_return_days: float = 183


@dataclass(slots=True)
class LifecycleWrites:
    """What the batch's lifecycle documents leave for the deciding step to write with the
    decisions: manifest entries (with the bundle row they are about), ledger refunds and
    decision receipts."""

    entries: list[tuple[Row, Row]] = field(default_factory=list)
    # decision receipts they cause (a departure's 899 结关), issued with the decisions'
    receipts: list[Row] = field(default_factory=list)
    ledger: dict[tuple[str, int], Decimal] = field(default_factory=dict)

    def refund(self, bundle: Row, amount: Decimal) -> Decimal:
        """Give ``amount`` back to the buyer-year the bundle's release counted under (no more
        than what is still counted); the amount given."""
        counted = bundle.get("ledger_amount")
        if bundle.get("ledger_buyer") is None or counted is None or amount <= 0:
            return Decimal(0)
        given = min(Decimal(counted), amount)
        key = (str(bundle["ledger_buyer"]), int(bundle["ledger_year"]))
        self.ledger[key] = self.ledger.get(key, Decimal(0)) - given
        return given
