"""``python -m loadtest.engine_bench``: the engine alone, per document and per batch.

Everything in front of the store (parse, schema, sender check, extraction) is done before
the clock starts; the timed part is what the intake batcher does with a batch of prepared
documents: one transaction that locks, reads, applies, writes, decides and commits. The
traffic is the benchmark's own (``loadtest.traffic``: every regime, shuffled, spread, 30 %
with a mistake), on a fresh database.

It prints µs per document at each batch size, the fixed cost per batch (least-squares fit of
batch seconds against documents per batch), the statements per batch and how many distinct
statement texts the run sent (a text the driver has not seen is prepared again), and the
time by phase. With ``--profile FILE`` the timed part runs under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import statistics
import time
from pathlib import Path

from loadtest.servers import DEFAULT_POSTGRES, fresh_database
from loadtest.traffic import TrafficConfig, messages, plan
from service.config import Settings
from service.demo.play import DEMO_CALLERS
from service.engine.incoming import IncomingDocument, Outcome
from service.engine.intake import IntakeBatcher, _Submission
from service.engine.prepare import DocumentResult, build_preparer
from service.engine.receipts import IntakeReceipts
from service.messages.receipts import ReceiptItem
from service.metrics import REGISTRY
from service.store.database import Database

CALLERS = DEMO_CALLERS


PHASES = ("begin", "lock", "read", "apply", "write", "decide", "commit")


def phase_seconds() -> dict[str, float]:
    """Seconds spent so far in each phase of the intake transaction (engine/intake.py)."""
    return {
        phase: REGISTRY.get_sample_value("sandan_intake_phase_seconds_total", {"phase": phase})
        or 0.0
        for phase in PHASES
    }


def statements_sent() -> tuple[float, float]:
    """Statements sent by this process so far, and distinct texts (store/statements.py)."""
    total = REGISTRY.get_sample_value("sandan_db_statements_total") or 0.0
    texts = REGISTRY.get_sample_value("sandan_db_statement_texts") or 0.0
    return total, texts


Traffic = list[tuple[str, list[IncomingDocument]]]


def prepared_submissions(consignments: int, per_message: int, seed: int) -> Traffic:
    """Every document of the traffic, prepared, one submission per message."""
    settings = Settings()
    preparer = build_preparer(settings.pii_key, settings.max_message_bytes)
    config = TrafficConfig(consignments=consignments, docs_per_message=per_message, seed=seed)
    out: Traffic = []
    for message in messages(config, plan(config)):
        caller = CALLERS[message.kind]
        prepared = preparer.prepare(message.body, caller)
        items = [prepared.incoming[i] for i in sorted(prepared.incoming)]
        assert len(items) == len(message.documents), "every generated document must pass"
        out.append((caller.code, items))
    return out


def receipts_of(items: list[IncomingDocument]) -> IntakeReceipts:
    """The feed's receipts that preparing would have handed over with ``items``."""
    results = [
        DocumentResult(
            inc.document.guid,
            inc.document.kind.value,
            {},
            Outcome.accepted(),
            dict(ReceiptItem.from_document(inc.document, "120", "").fields),
        )
        for inc in items
    ]
    return IntakeReceipts(items[0].message_type, results, list(range(len(items))))


def batches(
    submissions: list[tuple[str, list[IncomingDocument]]], size: int
) -> list[list[tuple[str, list[IncomingDocument]]]]:
    """Split the traffic into batches of ``size`` documents (messages split where needed)."""
    out: list[list[tuple[str, list[IncomingDocument]]]] = []
    current: list[tuple[str, list[IncomingDocument]]] = []
    count = 0
    for sender, items in submissions:
        rest = items
        while rest:
            take = rest[: size - count]
            rest = rest[len(take) :]
            current.append((sender, take))
            count += len(take)
            if count == size:
                out.append(current)
                current, count = [], 0
    if current:
        out.append(current)
    return out


async def measure(
    url: str, traffic: list[tuple[str, list[IncomingDocument]]], size: int, profile: str | None
) -> tuple[list[tuple[int, float]], float, float, dict[str, float]]:
    """Apply the traffic in batches of ``size``; the first batch warms up and is not timed."""
    settings = Settings(database_url=url)
    db = Database(url)
    batcher = IntakeBatcher(db, settings)
    loop = asyncio.get_running_loop()
    timings: list[tuple[int, float]] = []
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    for index, batch in enumerate(batches(traffic, size)):
        subs = []
        for sender, items in batch:
            sub = _Submission.__new__(_Submission)
            sub.sender, sub.items, sub.future = sender, items, loop.create_future()
            sub.receipts = receipts_of(items)  # each document's receipt, issued in the batch
            subs.append(sub)
        if index == 1:
            sent_before, _ = statements_sent()
            phases_before = phase_seconds()
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
        t0 = time.perf_counter()
        await batcher._apply(subs)
        if index >= 1:
            timings.append((sum(len(s.items) for s in subs), time.perf_counter() - t0))
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile}.{size}")
    sent = statements_sent()[0] - sent_before
    after = phase_seconds()
    phases = {p: after[p] - phases_before[p] for p in PHASES}
    await db.dispose()
    return timings, elapsed, sent, phases


def run(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    fits: list[tuple[int, float]] = []
    for size in sizes:
        print(f"preparing {args.consignments} consignments ...", flush=True)
        traffic = prepared_submissions(args.consignments, min(size, 100), args.seed)
        with fresh_database(args.database, f"sandan_engine_bench_{size}", Path(args.out)) as url:
            timings, elapsed, sent, phases = asyncio.run(measure(url, traffic, size, args.profile))
        n_batches = len(timings)
        timed_docs = sum(n for n, _ in timings)
        per_doc = [t / n * 1e6 for n, t in timings if n == size]
        print(
            f"batch {size:>4} docs: {timed_docs} docs in {n_batches} batches, "
            f"{elapsed * 1e6 / max(timed_docs, 1):.0f} µs/doc overall, "
            f"median {statistics.median(per_doc) if per_doc else float('nan'):.0f} µs/doc, "
            f"{sent / max(n_batches, 1):.1f} statements/batch, "
            f"{statements_sent()[1]:.0f} distinct texts so far, {timed_docs / elapsed:.0f} docs/s",
            flush=True,
        )
        print(
            "  µs per document by phase: "
            + ", ".join(f"{p} {phases[p] * 1e6 / max(timed_docs, 1):.0f}" for p in PHASES),
            flush=True,
        )
        fits += timings
    if len({n for n, _ in fits}) > 1:
        slope, intercept = statistics.linear_regression(
            [float(n) for n, _ in fits], [t for _, t in fits]
        )
        print(f"fit over all batches: {intercept * 1e3:.2f} ms fixed + {slope * 1e6:.0f} µs/doc")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m loadtest.engine_bench", description=__doc__)
    p.add_argument("--database", default=DEFAULT_POSTGRES, help="PostgreSQL server URL")
    p.add_argument("--sqlite", action="store_true", help="SQLite files instead")
    p.add_argument("--consignments", type=int, default=2000)
    p.add_argument("--batch-sizes", default="1,10,200", help="documents per batch, a list")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    p.add_argument("--profile", help="write cProfile stats to FILE.<size>")
    args = p.parse_args()
    if args.sqlite:
        args.database = None
    run(args)


if __name__ == "__main__":
    main()
