"""``python -m loadtest.prepare_bench``: µs per document of intake preparation, in process.

Two figures per message type and size: parse + schema check alone (what any intake pays,
the floor) and the whole ``Preparer.prepare`` (parse, check, read, digest, masking). Their
difference is Sandan's own per-document CPU before the store. Messages are the demo's clean
consignments, rendered before the clock starts. The clock is this process's CPU time and
each figure the best of several rounds, so other work on a shared machine inflates it less.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from decimal import Decimal

from service.demo.consignments import Consignment, clean_import, message_of, sender_code
from service.demo.exports import clean_export
from service.engine.prepare import build_preparer
from service.messages.parse import parse_message
from service.messages.registry import MESSAGE_TYPES, Kind, MessageType, Role
from service.messages.schema import SchemaChecker
from service.security.keys import Caller

MAX_BYTES = 10 * 2**20
PII_KEY = "prepare-bench-key-0123456789abcdef"
ROOTS = ("CEB311", "CEB411", "CEB511", "CEB621", "CEB303", "CEB403", "CEB505", "CEB603")


def _consignments(direction: str, count: int) -> list[Consignment]:
    rng = random.Random(7)
    make = clean_import if direction == "I" else clean_export
    return [make(rng, n) for n in range(1, count + 1)]


def _caller(consignment: Consignment, kind: Kind) -> Caller:
    code = sender_code(consignment, kind)
    return Caller(1, code, frozenset({code}), frozenset(Role))


def _best_us(run: Callable[[], object], documents: int, budget_s: float, rounds: int) -> float:
    """Best per-document time over ``rounds`` rounds of about ``budget_s / rounds`` each."""
    start = time.process_time()
    run()
    once = max(time.process_time() - start, 1e-6)
    repeat = max(1, int(budget_s / rounds / once))
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(repeat):
            run()
        best = min(best, (time.process_time() - start) / repeat)
    return best * 1e6 / documents


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--types", nargs="*", default=list(ROOTS), help="e.g. CEB311 CEB621")
    parser.add_argument("--sizes", nargs="*", type=int, default=[1, 100])
    parser.add_argument("--seconds", type=float, default=1.0, help="time budget per figure")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    checker = SchemaChecker()
    preparer = build_preparer(PII_KEY, MAX_BYTES)
    print(f"{'message':<10}{'docs':>6}{'parse+check µs/doc':>21}{'prepare µs/doc':>17}{'own':>8}")
    for name in args.types:
        message_type = MESSAGE_TYPES[f"{name}Message"]
        for size in args.sizes:
            consignments = _consignments(message_type.direction.value, size)
            body = message_of(consignments, message_type.kind)
            caller = _caller(consignments[0], message_type.kind)
            prepared = preparer.prepare(body, caller)
            if len(prepared.incoming) != size:
                raise SystemExit(f"{name}: {len(prepared.incoming)} of {size} documents accepted")

            def floor(body: bytes = body, message_type: MessageType = message_type) -> object:
                return checker.check(message_type, parse_message(body, MAX_BYTES))

            def whole(body: bytes = body, caller: Caller = caller) -> object:
                return preparer.prepare(body, caller)

            base = _best_us(floor, size, args.seconds, args.rounds)
            full = _best_us(whole, size, args.seconds, args.rounds)
            own = Decimal(full - base).quantize(Decimal("0.1"))
            print(f"{name:<10}{size:>6}{base:>21.1f}{full:>17.1f}{own!s:>8}")


if __name__ == "__main__":
    main()
