"""The servers' own account of where their intake transactions spent the run.

Read from each server's ``GET /metrics`` before and after the traffic
(``sandan_intake_phase_seconds{phase}``, ``sandan_intake_commit_seconds``): seconds per phase
summed over the servers, the number of batches, and the share of the run the batchers were
busy. A server without these metrics (the ceiling) gives nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from service.metrics import BATCH_PHASES

# more counters for the per-stage profile (``loadtest.profile``), summed over the servers
_SUMMED = {
    "sandan_intake_batch_documents_sum": "batch_documents",
    "sandan_prepare_seconds_total": "prepare_seconds",
    "sandan_prepared_documents_total": "prepared_documents",
    "sandan_db_statements_total": "statements",
}


async def scrape(urls: tuple[str, ...]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    async with httpx.AsyncClient(timeout=30) as client:
        for url in urls:
            try:
                response = await client.get(url + "/metrics")
            except httpx.HTTPError:
                continue
            if response.status_code != 200:
                continue
            for family in text_string_to_metric_families(response.text):
                for sample in family.samples:
                    if sample.name == "sandan_intake_phase_seconds_total":
                        totals[sample.labels["phase"]] += sample.value
                    elif sample.name == "sandan_intake_commit_seconds_count":
                        totals["batches"] += sample.value
                    elif sample.name == "sandan_intake_commit_seconds_sum":
                        totals["batch_seconds"] += sample.value
                    elif sample.name in _SUMMED:
                        totals[_SUMMED[sample.name]] += sample.value
                    elif sample.name == "sandan_db_statement_texts":
                        # distinct per process, so the processes' figures do not add up
                        totals["statement_texts"] = max(totals["statement_texts"], sample.value)
    return totals


def summary(before: dict[str, float], after: dict[str, float], duration: float) -> dict[str, Any]:
    delta = {k: after[k] - before.get(k, 0.0) for k in after}
    if not delta.get("batches"):
        return {}
    return {
        "batches": int(delta["batches"]),
        "seconds_per_phase": {p: round(delta.get(p, 0.0), 2) for p in BATCH_PHASES},
        "batch_seconds": round(delta["batch_seconds"], 2),
        # > 1 when several servers' batchers ran at once
        "batchers_busy": round(delta["batch_seconds"] / duration, 2) if duration else None,
    }
