"""Prometheus metrics: one registry per process, scraped at GET /metrics.

Each `sandan serve` exposes its own counters; Prometheus sums them across targets. The worker
processes of one `sandan serve` share its port, so a scrape reaches one of them at random:
they write their values to a shared directory and /metrics answers the totals of all of them
(``service.multiprocess_metrics``). Gauges that describe shared state (pending bundles, relay
lag) are read from the database at scrape time, so every process reports the same truth; with
several workers the one read most recently is the answer (``multiprocess_mode="mostrecent"``),
not a sum of stale copies.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
# process_resident_memory_bytes, process_cpu_seconds_total, open fds... of this process (from
# /proc); with several workers, ``multiprocess_metrics`` reads every worker's instead.
ProcessCollector(registry=REGISTRY)

DOCUMENTS = Counter(
    "sandan_documents_total",
    "Documents answered by ingest, by kind, status (accepted/duplicate/rejected) and code",
    ["kind", "status", "code"],
    registry=REGISTRY,
)
DECISIONS = Counter(
    "sandan_decisions_total",
    "Manifest decisions by direction, regime, decision and who made them",
    ["direction", "regime", "decision", "by"],
    registry=REGISTRY,
)
# Counted from the findings the engine already holds when its decision commits: no query.
FINDINGS = Counter(
    "sandan_findings_total",
    "Findings of the engine's decisions (release or exception), by rule code and severity",
    ["rule", "severity"],
    registry=REGISTRY,
)
BATCH_DOCUMENTS = Histogram(
    "sandan_intake_batch_documents",
    "Documents per intake transaction (group commit)",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500),
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "sandan_intake_commit_seconds",
    "Time to apply, decide and commit one intake batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
# Where an intake transaction's time goes; "begin" includes waiting for a pooled connection,
# every phase includes waiting for the event loop between statements.
BATCH_PHASES = ("begin", "lock", "read", "apply", "write", "decide", "commit")
BATCH_PHASE_SECONDS = Counter(
    "sandan_intake_phase_seconds",
    "Seconds spent by intake transactions in each phase",
    ["phase"],
    registry=REGISTRY,
)
# Preparing a message (parse, schema, sender, extraction, masking) before intake: its wall
# time, on the event loop or waiting for the worker process, and the documents it yielded.
PREPARE_SECONDS = Counter(
    "sandan_prepare_seconds", "Seconds spent preparing messages for intake", registry=REGISTRY
)
PREPARED_DOCUMENTS = Counter(
    "sandan_prepared_documents", "Documents in the messages prepared", registry=REGISTRY
)
HTTP_SECONDS = Histogram(
    "sandan_http_request_seconds",
    "HTTP request latency by route and status",
    ["method", "route", "status"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
PENDING_BUNDLES = Gauge(
    "sandan_bundles",
    "Bundles by state (read at scrape time)",
    ["state"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
# The dashboard's age bands of pending bundles (since their first document).
PENDING_AGES = ("<1h", "1-6h", "6-24h", ">24h")
PENDING_BY_AGE = Gauge(
    "sandan_pending_bundles",
    "Pending bundles by the age of their first document (read at scrape time)",
    ["age"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
RELAY_LAG = Gauge(
    "sandan_relay_lag_entries",
    "Manifest entries not yet copied to the broker (read at scrape time; -1 without broker)",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
