"""deploy/prometheus/alerts.yaml: valid rule groups, and every metric (and label) a rule
names is on a running server's /metrics, so the rules cannot silently watch nothing."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from service.demo.consignments import clean_import
from service.demo.mistakes import with_mistake
from service.messages.registry import Kind
from tests.deploy.dockerfile import ROOT
from tests.e2e.conftest import Deployment, deploy

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
# Prometheus's own series, not Sandan's
BUILT_IN = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "offset", "bool"}
SELECTOR = re.compile(r"(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')


def rules() -> list[dict[str, str]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def selectors(expr: str) -> Iterator[tuple[str, dict[str, tuple[str, str]]]]:
    """(metric name, {label: (operator, value)}) of every series selector in ``expr``."""
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    for match in SELECTOR.finditer(expr):
        name, braces = match.group(1), match.group(2) or ""
        after = expr[match.end() :].lstrip()
        if name in PROMQL_WORDS or (after.startswith("(") and not braces):
            continue  # a function or an operator word
        if re.fullmatch(r"\d.*", name):
            continue
        yield name, {m.group(1): (m.group(2), m.group(3)) for m in MATCHER.finditer(braces)}


def test_the_rules_are_well_formed() -> None:
    found = rules()
    assert len(found) >= 8
    names = [r["alert"] for r in found]
    assert len(set(names)) == len(names)
    for rule in found:
        assert set(rule) >= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert list(selectors(rule["expr"])), rule["alert"]


@pytest.fixture(scope="module")
def exposition(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, list[dict[str, str]]]]:
    """Sample name -> the label sets it has, on a server that took traffic: one released
    consignment, one exception, one pending bundle."""
    with deploy(tmp_path_factory.mktemp("alerts")) as d:
        _traffic(d)
        text = d.client.get("/metrics").text
    samples: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(dict(sample.labels))
    yield samples


def _traffic(d: Deployment) -> None:
    clean = clean_import(random.Random(7001), 7001)
    d.send_all(clean)
    d.send_all(with_mistake(clean_import(random.Random(7002), 7002), "PAYMENT_AMOUNT"))
    d.send(clean_import(random.Random(7003), 7003), Kind.ORDER)  # pending


def test_every_metric_the_rules_name_is_served(
    exposition: dict[str, list[dict[str, str]]],
) -> None:
    checked = 0
    for rule in rules():
        for name, matchers in selectors(rule["expr"]):
            if name in BUILT_IN:
                continue
            assert name in exposition, f"{rule['alert']}: {name} is not on /metrics"
            label_sets = exposition[name]
            for label, (op, value) in matchers.items():
                assert any(label in labels for labels in label_sets), (rule["alert"], label)
                if op == "=":
                    assert any(labels.get(label) == value for labels in label_sets), (
                        f"{rule['alert']}: no {name}{{{label}={value!r}}}"
                    )
            checked += 1
    assert checked >= 10


def test_the_readme_points_at_the_rules() -> None:
    assert "deploy/prometheus/alerts.yaml" in (ROOT / "README.md").read_text()


def test_selector_reading() -> None:
    expr = 'sum by (le) (rate(a_b_bucket{route="/x",s=~"5.."}[5m])) > 2e9 and up{job="j"} == 0'
    assert list(selectors(expr)) == [
        ("a_b_bucket", {"route": ("=", "/x"), "s": ("=~", "5..")}),
        ("up", {"job": ("=", "j")}),
    ]
