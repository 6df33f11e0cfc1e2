"""A clean consignment, end to end: four documents in, one release out."""

from __future__ import annotations

from service.messages.registry import Kind
from tests.e2e.conftest import Deployment, fresh


def test_clean_consignment_is_released(sandan: Deployment) -> None:
    c = fresh()
    sandan.send_all(c, [Kind.LOGISTICS, Kind.ORDER, Kind.INVENTORY, Kind.PAYMENT])
    bundle = sandan.bundle_json(c.key)
    assert bundle["state"] == "released"
    assert bundle["findings"] == []
    [entry] = sandan.entries_for(c.key)
    assert entry["decision"] == "release"
    assert entry["logisticsNo"] == c.logistics["logisticsNo"]
