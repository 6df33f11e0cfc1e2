"""From what was sent and seen to the report's figures (JSON-ready dictionaries)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

from loadtest.driver import Sent
from loadtest.follower import Seen
from loadtest.memory import Sample
from loadtest.traffic import Planned
from service.rules.catalogue import RULES
from service.rules.findings import Severity


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of ``values`` (q in 0..100); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def latency_ms(values: list[float], qs: tuple[float, ...] = (50, 95, 99)) -> dict[str, Any]:
    out: dict[str, Any] = {f"p{q:g}": _ms(percentile(values, q)) for q in qs}
    out["max"] = _ms(max(values, default=None) if values else None)
    out["count"] = len(values)
    return out


def _expected_decision(planned: Planned) -> str:
    if planned.mistake is None:
        return "release"
    spec = RULES.get(planned.mistake)
    return "release" if spec is not None and spec.severity is Severity.WARNING else "exception"


def decision_latencies(
    planned: list[Planned], sent: Sent, seen: Seen
) -> tuple[list[float], dict[str, int]]:
    """Seconds from the completing document's "accepted" to its manifest entry being read."""
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    for p in planned:
        times = [sent.accepted_at.get((p.index, kind)) for kind in p.required]
        seen_at = seen.first_seen.get(p.key)
        if any(t is None for t in times):
            counts["incomplete"] += 1
            continue
        if seen_at is None:
            counts["not_seen"] += 1
            continue
        completed = max(t for t in times if t is not None)
        # The entry can be read before the ingest answer reaches the sender: that is 0 here.
        latencies.append(max(0.0, seen_at - completed))
        counts["observed"] += 1
        # A behaviour check on the side: the decision the planted mistake should cause.
        if seen.first_decision.get(p.key) != _expected_decision(p):
            counts["unexpected_decision"] += 1
        # e.g. a 9710 bundle decided before its optional receipt carried the mistake in
        if p.mistake is not None and p.mistake not in seen.first_rules.get(p.key, []):
            counts["mistake_rule_absent"] += 1
    return latencies, dict(counts)


def timeline(
    sent: Sent, seen: Seen | None, samples: list[Sample], bucket: float = 1.0
) -> list[dict[str, Any]]:
    """Per ``bucket`` seconds: documents accepted, decisions seen, ingest p50/p99, memory."""
    docs: dict[int, int] = defaultdict(int)
    lat: dict[int, list[float]] = defaultdict(list)
    decided: dict[int, int] = defaultdict(int)
    for t in sent.accepted_at.values():
        docs[int(t // bucket)] += 1
    for began, latency, _ in sent.requests:
        lat[int((began + latency) // bucket)].append(latency)
    if seen is not None:
        for t in seen.first_seen.values():
            decided[int(t // bucket)] += 1
    memory = {int(s.t // bucket): s for s in samples}
    last = max([*docs, *decided, *memory, 0])
    rows = []
    for i in range(last + 1):
        sample = memory.get(i)
        rows.append(
            {
                "t": round(i * bucket, 3),
                "docs_per_s": docs[i] / bucket,
                "decisions_per_s": decided[i] / bucket,
                "ingest_p50_ms": _ms(percentile(lat[i], 50)),
                "ingest_p99_ms": _ms(percentile(lat[i], 99)),
                "server_rss_mb": None if sample is None else round(sample.rss_mb, 1),
                "server_cpu_pct": None if sample is None else round(sample.server_cpu, 1),
                "generator_cpu_pct": None if sample is None else round(sample.generator_cpu, 1),
                "wrk_cpu_pct": None if sample is None else round(sample.wrk_cpu, 1),
            }
        )
    return rows


def summarise(
    planned: list[Planned],
    sent: Sent,
    seen: Seen | None,
    samples: list[Sample],
) -> dict[str, Any]:
    duration = max(sent.finished - sent.started, 1e-9)
    accepted = sent.statuses.get("accepted", 0)
    report: dict[str, Any] = {
        "duration_s": round(duration, 3),
        "consignments": len(planned),
        "documents": {"sent": sent.documents, **dict(sent.statuses)},
        "messages": len(sent.requests),
        "docs_per_s": round(accepted / duration, 1),
        "messages_per_s": round(len(sent.requests) / duration, 1),
        "ingest_latency_ms": latency_ms([lat for _, lat, _ in sent.requests], (50, 95, 99)),
        "generator": sent.generator,
        "errors": dict(sent.errors.most_common()),
        "mistakes_planned": dict(Counter(p.mistake or "clean" for p in planned).most_common()),
    }
    if "latency_ms" in sent.generator:
        # wrk's own histogram (latency:percentile in its done()), what the issue asks for;
        # the per-request times above it still make the timeline
        report["ingest_latency_ms"] = sent.generator["latency_ms"]
    if seen is not None:
        latencies, counts = decision_latencies(planned, sent, seen)
        last_seen = max(seen.first_seen.values(), default=sent.started)
        span = max(last_seen - sent.started, 1e-9)
        report.update(
            decisions_per_s=round(len(seen.first_seen) / span, 1),
            decision_latency_ms=latency_ms(latencies, (50, 95, 99)),
            decisions={
                "bundles_decided": len(seen.first_seen),
                "manifest_entries": seen.entries,
                **dict(seen.decisions),
                **counts,
                "follower_errors": dict(seen.errors),
            },
            rules_seen=dict(seen.rules.most_common()),
        )
    if samples:
        report["server_rss_mb"] = {
            "first": round(samples[0].rss_mb, 1),
            "last": round(samples[-1].rss_mb, 1),
            "peak": round(max(s.rss_mb for s in samples), 1),
        }
        report["server_processes_serving"] = max(s.serving for s in samples)
        parent = max(s.parent_rss_mb for s in samples)
        if parent:
            # the supervisor of worker processes: not in the per-process figure above
            report["server_parent_rss_mb"] = {"peak": round(parent, 1)}
        # CPU readings cover the interval before them: the first is psutil's baseline
        # (always 0), and the first one after the last answer still covers the run's end
        ended = next((i for i, s in enumerate(samples) if s.t >= sent.finished), len(samples))
        busy = samples[1 : ended + 1] or samples
        if busy:
            report["cpu_pct_mean"] = {
                "server": round(sum(s.server_cpu for s in busy) / len(busy), 1),
                # this Python process: the sender itself, or only the follower beside wrk
                "generator": round(sum(s.generator_cpu for s in busy) / len(busy), 1),
                "wrk": round(sum(s.wrk_cpu for s in busy) / len(busy), 1),
            }
    report["timeline"] = timeline(sent, seen, samples)
    return report
