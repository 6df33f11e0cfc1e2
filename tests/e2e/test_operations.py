"""/metrics, request ids and the structured log, on a real server."""

from __future__ import annotations

import json
import re

from service.demo.mistakes import with_mistake
from service.messages.registry import Kind
from service.metrics import PENDING_AGES
from tests.e2e.conftest import Deployment, fresh


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_documents_decisions_and_batches(sandan: Deployment) -> None:
    before = sandan.client.get("/metrics").text
    c = fresh()
    sandan.send_all(c)
    sandan.send(c, Kind.ORDER)  # a replay
    response = sandan.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("sandan_documents_total", kind="order", status="accepted", code="") == 1
    assert grew("sandan_documents_total", kind="order", status="duplicate", code="DUPLICATE") == 1
    assert grew("sandan_decisions_total", direction="I", regime="9610", decision="release") == 1
    assert grew("sandan_intake_batch_documents_count") >= 4
    assert _metric(after, "sandan_bundles", state="released") >= 1
    assert grew("sandan_http_request_seconds_count", route="/v1/messages", status="200") == 5


def test_metrics_count_findings_by_rule_and_pending_bundles_by_age(sandan: Deployment) -> None:
    before = sandan.client.get("/metrics").text
    wrong = with_mistake(fresh(), "PAYMENT_AMOUNT")
    sandan.send_all(wrong)
    assert sandan.bundle_json(wrong.key)["state"] == "exception"
    pending = fresh()
    sandan.send(pending, Kind.ORDER)  # the rest never comes: pending, younger than an hour
    after = sandan.client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("sandan_findings_total", rule="PAYMENT_AMOUNT", severity="error") == 1
    assert grew("sandan_findings_total", rule="TAX_TOTAL") == 0
    assert grew("sandan_pending_bundles", age="<1h") == 1
    pending_total = sum(_metric(after, "sandan_pending_bundles", age=age) for age in PENDING_AGES)
    assert pending_total == _metric(after, "sandan_bundles", state="pending")


def test_metrics_describe_the_server_process(sandan: Deployment) -> None:
    text = sandan.client.get("/metrics").text
    # prometheus_client's process collector, from /proc: a Python server is tens of MB
    assert 10_000_000 < _metric(text, "process_resident_memory_bytes") < 10_000_000_000
    assert _metric(text, "process_cpu_seconds_total") > 0
    assert _metric(text, "process_open_fds") > 0


def test_every_response_carries_a_request_id_and_the_log_has_it(sandan: Deployment) -> None:
    given = sandan.client.get("/healthz", headers={"X-Request-ID": "trace-4711"})
    assert given.headers["X-Request-ID"] == "trace-4711"
    made = sandan.client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    c = fresh()
    sandan.send_all(c)
    lines = [json.loads(line) for line in sandan.server.log().splitlines() if line.startswith("{")]
    assert any(
        line.get("request_id") == "trace-4711" and "/healthz" in line["message"] for line in lines
    )
    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[-1])
    log = sandan.server.log()
    for secret in (
        c.order["buyerIdNumber"],
        c.order["buyerTelephone"],
        c.order["consigneeTelephone"],
    ):
        assert secret not in log
