"""The PNG beside each JSON report: throughput and latency over time, percentiles, memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server

import matplotlib.pyplot as plt


def plot(reports: dict[str, dict[str, Any]], path: Path, title: str) -> None:
    """One figure for one or more runs (labelled), e.g. ceiling / baseline / sandan."""
    fig, ((thr, lat), (pct, mem)) = plt.subplots(2, 2, figsize=(13, 8))
    fig.suptitle(title)
    for label, report in reports.items():
        rows = report["timeline"]
        t = [r["t"] for r in rows]
        (line,) = thr.plot(t, [r["docs_per_s"] for r in rows], label=f"{label} docs/s")
        if "decisions_per_s" in report:
            thr.plot(
                t,
                [r["decisions_per_s"] for r in rows],
                linestyle="--",
                color=line.get_color(),
                label=f"{label} decisions/s",
            )
        lat.plot(
            t, [r["ingest_p50_ms"] for r in rows], color=line.get_color(), label=f"{label} p50"
        )
        lat.plot(
            t,
            [r["ingest_p99_ms"] for r in rows],
            color=line.get_color(),
            linestyle=":",
            label=f"{label} p99",
        )
        mem.plot(t, [r["server_rss_mb"] for r in rows], color=line.get_color(), label=label)
    thr.set(title="throughput", xlabel="s", ylabel="per second")
    lat.set(title="ingest latency per second of the run", xlabel="s", ylabel="ms")
    mem.set(title="server RSS", xlabel="s", ylabel="MiB")
    _percentiles(pct, reports)
    for ax in (thr, lat, mem):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _percentiles(ax: Any, reports: dict[str, dict[str, Any]]) -> None:
    names = [
        ("ingest_latency_ms", "p50"),
        ("ingest_latency_ms", "p95"),
        ("ingest_latency_ms", "p99"),
        ("decision_latency_ms", "p50"),
        ("decision_latency_ms", "p99"),
    ]
    width = 0.8 / max(len(reports), 1)
    for i, (label, report) in enumerate(reports.items()):
        values = [(report.get(block) or {}).get(q) or 0 for block, q in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=label)
    ax.set_xticks([x + width * (len(reports) - 1) / 2 for x in range(len(names))])
    ax.set_xticklabels([f"{b.split('_')[0]} {q}" for b, q in names], fontsize=8)
    ax.set(title="latency percentiles (whole run)", ylabel="ms")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)
