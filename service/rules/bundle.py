"""What a rule is given: the bundle's current documents and everything else as plain values.

Rules never read settings, the clock or the database; the engine builds a ``RuleContext`` from
configuration and the ledger and passes it in. That keeps every rule a pure function of its
arguments: the same documents and context always give the same findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from service.messages.documents import Document, Inventory, Logistics, Order, Payment
from service.messages.registry import BUNDLE_KINDS, Kind


@dataclass(frozen=True, slots=True)
class BundleDocuments:
    """The current document of each kind in one bundle; ``None`` where none arrived yet."""

    order: Order | None = None
    payment: Payment | None = None
    logistics: Logistics | None = None
    inventory: Inventory | None = None

    def get(self, kind: Kind) -> Document | None:
        doc: Document | None = getattr(self, _FIELD[kind])
        return doc

    def present(self) -> frozenset[Kind]:
        return frozenset(kind for kind in BUNDLE_KINDS if self.get(kind) is not None)

    def documents(self) -> tuple[Document, ...]:
        """The present documents in ``BUNDLE_KINDS`` order."""
        docs = (self.order, self.payment, self.logistics, self.inventory)
        return tuple(doc for doc in docs if doc is not None)


# kind -> field name, looked up rather than read from ``Kind.value`` (a descriptor call) in
# the rules, which ask for a bundle's documents many times per judgement
_FIELD: dict[Kind, str] = {kind: kind.value for kind in Kind}


@dataclass(frozen=True, slots=True)
class RuleContext:
    # SPEC §5.2 thresholds, in CNY.
    single_limit: Decimal
    annual_limit: Decimal
    # Allowed difference for computed amounts (formula, qty × price, sums, tax). Comparisons of
    # two declared values across documents are exact and ignore it.
    tolerance: Decimal
    # Share of statutory VAT and consumption tax charged on retail imports (0.7).
    retail_tax_factor: Decimal
    # HS-code prefix -> (VAT, consumption tax) statutory rates; longest prefix wins; "" fallback.
    tax_table: Mapping[str, tuple[Decimal, Decimal]]
    # "I9610" -> ["order", "payment", "logistics", "inventory"], "E9710" -> [...].
    required_sets: Mapping[str, Sequence[str]]
    # The buyer's released import transaction value this calendar year, excluding this bundle.
    buyer_year_total: Decimal
    # Whether the bundle's deadline has passed: missing documents become MISSING_* errors.
    deadline_passed: bool
    # Whether the consignment's arrival (入库 / 运抵) was reported: a regime whose required
    # set names ``arrival`` waits for it (SPEC §10).
    arrived: bool = False
