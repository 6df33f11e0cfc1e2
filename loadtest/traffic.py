"""What the generator sends: realistic consignments of every regime, shuffled, spread, grouped.

The consignments, their documents and their mistakes come from ``service.demo`` (the same
builders the demo and the end-to-end tests use), so load traffic is exactly as valid, and as
wrong, as the traffic the rules are tested with. This module only decides *how much* of each,
*when* each document goes out, and *how many* documents share a message.

Planning is in two steps so that a million-consignment run never holds a million consignments:
a cheap skeleton for every consignment up front (variant, mistake, kinds: the totals for the
progress bar and the report), then the XML built lazily, window by window, as it is sent.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from service.config import DEFAULT_REQUIRED_SETS
from service.demo.consignments import Consignment, clean_import, message_of
from service.demo.exports import EXPORT_MISMATCHES, clean_export, kinds_to_send, with_export_mistake
from service.demo.mistakes import MISMATCHES, with_mistake
from service.demo.play import KIND_ROLE, VARIANTS
from service.messages.registry import BUNDLE_KINDS, Kind


def _decides_before_deadline(direction: str, code: str) -> bool:
    """MISSING_* mistakes (a document withheld, or an export inventory naming a waybill that
    never comes) decide only at the deadline, hours later: no decision latency to measure."""
    return not code.startswith("MISSING_")


MAX_DOCUMENTS_PER_MESSAGE = 100


def applicable_mistakes(direction: str, regime: str) -> list[str]:
    """The mismatch codes that make sense for a variant and decide before the deadline."""
    if direction == "I":
        codes = list(MISMATCHES)
    else:
        codes = [
            code
            for code in EXPORT_MISMATCHES
            if (code != "REGIME_FIELDS" or regime == "1210")
            and (code != "EXPORT_RECEIPT_AMOUNT" or regime != "9810")
        ]
    return [code for code in codes if _decides_before_deadline(direction, code)]


def all_mistakes() -> list[str]:
    variants = [variant for variant, _ in VARIANTS]
    return sorted({code for d, regime in variants for code in applicable_mistakes(d, regime)})


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    consignments: int
    # 1 = one document per message; up to 100 documents of one kind share a message.
    docs_per_message: int = 1
    # Share of consignments carrying one mistake, spread evenly over the codes that apply.
    mismatch_share: float = 0.3
    # Explicit share per code instead (only these codes are used); see ``--mismatch``.
    mismatch_shares: Mapping[str, float] | None = None
    # A consignment's documents go out at random points over the next ``spread``
    # consignments' worth of traffic: interleaved with others, never all at once.
    spread: int = 200
    seed: int = 11
    # Order numbers start here: a second run against the same database needs new ones.
    first_number: int = 1
    when: datetime = field(default_factory=lambda: datetime(2026, 11, 11))

    def __post_init__(self) -> None:
        if not 1 <= self.docs_per_message <= MAX_DOCUMENTS_PER_MESSAGE:
            raise ValueError("docs_per_message must be 1..100 (SPEC §2)")
        if self.consignments < 1:
            raise ValueError("consignments must be at least 1")
        if not 0 <= self.mismatch_share <= 1:
            raise ValueError("mismatch_share must be in [0, 1]")
        shares = self.mismatch_shares or {}
        unknown = set(shares) - set(all_mistakes())
        if unknown:
            raise ValueError(f"unknown or undecidable mismatch codes: {sorted(unknown)}")
        if sum(shares.values()) > 1:
            raise ValueError("mismatch shares add up to more than 1")


@dataclass(slots=True)
class Planned:
    """One consignment as the report sees it."""

    index: int
    number: int
    direction: str
    regime: str
    mistake: str | None
    kinds: tuple[Kind, ...]
    # Kinds whose arrival completes the bundle (the regime's required set).
    required: frozenset[Kind]
    key: tuple[str, str] = ("", "")


@dataclass(frozen=True, slots=True)
class Message:
    body: bytes
    role: str
    kind: Kind
    # Per document, in message order: (consignment index, kind).
    documents: tuple[tuple[int, Kind], ...]


def _pick_mistake(rng: random.Random, config: TrafficConfig, codes: list[str]) -> str | None:
    roll = rng.random()
    if config.mismatch_shares is not None:
        shares = [(c, s) for c, s in config.mismatch_shares.items() if c in codes]
    else:
        shares = [(c, config.mismatch_share / len(codes)) for c in codes] if codes else []
    for code, share in shares:
        if roll < share:
            return code
        roll -= share
    return None


def plan(config: TrafficConfig) -> list[Planned]:
    """The skeleton of every consignment: variant, mistake, the kinds it sends."""
    rng = random.Random(config.seed)
    variants = [v for v, _ in VARIANTS]
    weights = [w for _, w in VARIANTS]
    out: list[Planned] = []
    for index in range(config.consignments):
        ((direction, regime),) = rng.choices(variants, weights=weights)
        mistake = _pick_mistake(rng, config, applicable_mistakes(direction, regime))
        kinds = (
            (Kind.ORDER, Kind.LOGISTICS, Kind.INVENTORY)
            if direction == "E" and regime == "9810"
            else BUNDLE_KINDS
        )
        required = frozenset(Kind(k) for k in DEFAULT_REQUIRED_SETS[direction + regime])
        out.append(
            Planned(index, config.first_number + index, direction, regime, mistake, kinds, required)
        )
    return out


def build(config: TrafficConfig, planned: Planned) -> Consignment:
    """The consignment's documents; its own seed, so the same run builds the same traffic."""
    rng = random.Random(config.seed * 1_000_003 + planned.index)
    if planned.direction == "I":
        c = clean_import(rng, planned.number, regime=planned.regime, when=config.when)
        if planned.mistake is not None:
            c = with_mistake(c, planned.mistake)
    else:
        c = clean_export(rng, planned.number, regime=planned.regime, when=config.when)
        if planned.mistake is not None:
            c = with_export_mistake(c, planned.mistake)
    assert tuple(kinds_to_send(c)) == planned.kinds
    planned.key = c.key
    return c


def messages(config: TrafficConfig, planned: list[Planned]) -> Iterator[Message]:
    """Every document of ``planned``, in arrival order, grouped into messages.

    Document d of consignment n goes out at slot n + U(0, spread); slots of later
    consignments are all > n, so once consignment n is built every document with a slot
    below n + 1 is final and can be sent. Documents of one kind (one sender) are grouped
    ``docs_per_message`` at a time in that order, as a sender's system batches its queue.
    """
    rng = random.Random(config.seed + 7)
    heap: list[tuple[float, int, int, Kind]] = []
    built: dict[int, Consignment] = {}
    # documents of each built consignment not yet in a sent message: at 0 it is dropped
    unsent: dict[int, int] = {}
    buffers: dict[tuple[str, Kind], list[tuple[int, Kind]]] = {}
    sequence = 0

    def flush(items: list[tuple[int, Kind]]) -> Message:
        kind = items[0][1]
        body = message_of([built[i] for i, _ in items], kind)
        for index, _ in items:
            unsent[index] -= 1
            if unsent[index] == 0:
                del unsent[index], built[index]
        return Message(body, KIND_ROLE[kind], kind, tuple(items))

    def release(before: float) -> Iterator[Message]:
        while heap and heap[0][0] < before:
            _, _, index, kind = heapq.heappop(heap)
            items = buffers.setdefault((planned[index].direction, kind), [])
            items.append((index, kind))
            if len(items) == config.docs_per_message:
                yield flush(list(items))
                items.clear()

    for p in planned:
        built[p.index] = build(config, p)
        unsent[p.index] = len(p.kinds)
        for kind in p.kinds:
            sequence += 1
            heapq.heappush(heap, (p.index + rng.uniform(0, config.spread), sequence, p.index, kind))
        yield from release(p.index + 1)
    yield from release(float("inf"))
    for items in buffers.values():
        if items:
            yield flush(list(items))


def document_count(planned: list[Planned]) -> int:
    return sum(len(p.kinds) for p in planned)
