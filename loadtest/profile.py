"""Where a document's time goes, per stage, from the servers' own counters.

From ``/metrics`` read before and after the run (``loadtest.phases.scrape``): µs per
document for preparing (``sandan_prepare_seconds`` over ``sandan_prepared_documents``) and
for each intake phase (``sandan_intake_phase_seconds{phase}`` over the documents the batches
held); SQL statements per batch (``sandan_db_statements_total``: every statement of the
process, so the follower's manifest reads and these scrapes are in it) and distinct statement
texts (``sandan_db_statement_texts``).

The fixed cost of a batch: the histograms give batch seconds and batch documents only as
totals, never per batch, so the run is cut into windows by scraping once a second and the
windows are fitted by least squares, ``seconds = a × batches + b × documents``: ``a`` is what
a batch costs whatever its size, ``b`` what each of its documents adds. At a steady rate every
window holds batches of about one size and the fit has little to go on (``windows`` and
``spread`` say how much it had); fitting runs of different message sizes, where batch sizes
differ by 30 ×, is firmer: ``fit_runs`` does that for a bench of several sizes.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from loadtest import phases
from service.metrics import BATCH_PHASES

Snapshot = dict[str, float]


@dataclass(slots=True)
class Poller:
    """Scrapes the servers every ``interval`` seconds while the traffic runs."""

    urls: tuple[str, ...]
    interval: float = 1.0
    snapshots: list[Snapshot] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.snapshots.append(await phases.scrape(self.urls))


def fit(points: list[tuple[float, float, float]]) -> tuple[float, float] | None:
    """Least squares ``seconds = a × batches + b × documents`` over (batches, documents,
    seconds) points; None when the points cannot separate a from b (all one batch size)."""
    nn = sum(n * n for n, _, _ in points)
    nd = sum(n * d for n, d, _ in points)
    dd = sum(d * d for _, d, _ in points)
    ns = sum(n * s for n, _, s in points)
    ds = sum(d * s for _, d, s in points)
    det = nn * dd - nd * nd
    # relative to its scale: near 0 means documents are a fixed multiple of batches
    if nn == 0 or dd == 0 or det <= 1e-9 * nn * dd:
        return None
    return (ns * dd - ds * nd) / det, (nn * ds - nd * ns) / det


def _delta(before: Snapshot, after: Snapshot) -> Snapshot:
    return {k: after[k] - before.get(k, 0.0) for k in after}


def windows(snapshots: list[Snapshot]) -> list[tuple[float, float, float]]:
    out = []
    for before, after in itertools.pairwise(snapshots):
        d = _delta(before, after)
        if d.get("batches", 0) > 0:
            out.append((d["batches"], d.get("batch_documents", 0.0), d.get("batch_seconds", 0.0)))
    return out


def _fixed_cost(points: list[tuple[float, float, float]], method: str) -> dict[str, Any]:
    sizes = [d / n for n, d, _ in points if n]
    out: dict[str, Any] = {
        "method": method,
        "points": len(points),
        # documents per batch, smallest and largest point: how much the fit had to go on
        "spread": [round(min(sizes), 1), round(max(sizes), 1)] if sizes else None,
    }
    found = fit(points)
    if found is None:
        out.update(ms_per_batch=None, us_per_document=None)
    else:
        out.update(ms_per_batch=round(found[0] * 1e3, 3), us_per_document=round(found[1] * 1e6, 1))
    return out


def profile(before: Snapshot, after: Snapshot, during: list[Snapshot]) -> dict[str, Any]:
    """The run's per-stage profile; {} for a server without Sandan's metrics (the ceilings)."""
    d = _delta(before, after)
    batches, documents = d.get("batches", 0.0), d.get("batch_documents", 0.0)
    prepared = d.get("prepared_documents", 0.0)
    if not batches and not prepared:
        return {}
    per_document: dict[str, float | None] = {
        "prepare": round(d.get("prepare_seconds", 0.0) / prepared * 1e6, 1) if prepared else None
    }
    for phase in BATCH_PHASES:
        per_document[phase] = round(d.get(phase, 0.0) / documents * 1e6, 1) if documents else None
    per_document["batch"] = (
        round(d.get("batch_seconds", 0.0) / documents * 1e6, 1) if documents else None
    )
    return {
        "batches": int(batches),
        "documents_in_batches": int(documents),
        "documents_per_batch": round(documents / batches, 1) if batches else None,
        "batch_ms_mean": round(d.get("batch_seconds", 0.0) / batches * 1e3, 2) if batches else None,
        "us_per_document": per_document,
        "statements": int(d.get("statements", 0.0)),
        "statements_per_batch": round(d.get("statements", 0.0) / batches, 1) if batches else None,
        # distinct texts since the server started (warm-up included), and new in this run
        "statement_texts": int(after.get("statement_texts", 0.0)),
        "statement_texts_new": int(d.get("statement_texts", 0.0)),
        "fixed_cost": _fixed_cost(windows([before, *during, after]), "windows of 1 s"),
    }


def fit_runs(profiles: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The fixed cost per batch across runs of different message sizes (one point each: the
    run's mean batch); None with fewer than two runs that had batches."""
    points = [
        (1.0, float(p["documents_per_batch"]), p["batch_ms_mean"] / 1e3)
        for p in profiles.values()
        if p.get("documents_per_batch")
    ]
    if len(points) < 2:
        return None
    return _fixed_cost(points, "one point per message size: " + ", ".join(profiles))
