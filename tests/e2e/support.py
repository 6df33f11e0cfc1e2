"""Helpers shared by the end-to-end test modules: polling, changes, and "nothing changed"."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from service.demo.compose import new_guid
from service.demo.consignments import Consignment, parts
from service.demo.mistakes import with_mistake
from service.messages.registry import Kind
from tests.e2e.conftest import Deployment

T = TypeVar("T")

# clean_import stamps every document 2026-11-11 00:00:00.
ORIGINAL_APP_TIME = "20261111000000"


def wait_until(
    probe: Callable[[], T], accept: Callable[[T], bool], timeout: float = 10.0, every: float = 0.1
) -> T:
    """Call ``probe`` until ``accept`` likes its answer; that answer, or fail at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s; last value: {value!r}")
        time.sleep(every)


def revised(
    c: Consignment,
    kind: Kind,
    *,
    app_type: str = "2",
    app_time: str = "20261111000100",
    **fields: Any,
) -> Consignment:
    """A copy of ``c`` whose ``kind`` document is a new version (new guid) of the original."""
    out = c.copy()
    head = parts(out, kind)[0]
    head.update(guid=new_guid(), appType=app_type, appTime=app_time, **fields)
    return out


def edit(body: bytes, old: str, new: str) -> bytes:
    """``body`` with the one occurrence of ``old`` replaced by ``new``."""
    encoded = old.encode()
    assert body.count(encoded) == 1, f"{old!r} occurs {body.count(encoded)} times"
    return body.replace(encoded, new.encode())


def last_seq(d: Deployment) -> int:
    """The highest manifest seq the operator can see."""
    after = 0
    while True:
        page = d.manifest(after=after, limit=1000)
        if not page["entries"]:
            return after
        after = page["next"]


def bundle_state(d: Deployment, key: tuple[str, str]) -> tuple[int, Any]:
    response = d.bundle(key)
    return response.status_code, response.json()


@contextmanager
def unchanged(d: Deployment, *keys: tuple[str, str]) -> Iterator[None]:
    """Assert that the bundles ``keys`` and the manifest are exactly as before the block."""
    before = {key: bundle_state(d, key) for key in keys}
    seq = last_seq(d)
    yield
    assert {key: bundle_state(d, key) for key in keys} == before
    assert d.manifest(after=seq, limit=1000)["entries"] == []


def codes(findings: list[dict[str, Any]]) -> list[str]:
    return [f["code"] for f in findings]


def only_document(response_json: dict[str, Any]) -> dict[str, Any]:
    documents: list[dict[str, Any]] = response_json["documents"]
    assert len(documents) == 1, documents
    return documents[0]


def mask_id(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def misrouted(c: Consignment) -> Consignment:
    """``c`` whose inventory names a waybill number no consignment uses (INVENTORY_LOGISTICS).

    Not ``with_mistake(c, "INVENTORY_LOGISTICS")``: that one rewrites the last digit to 9, which
    leaves numbers ending in 9 unchanged and names another consignment's waybill otherwise.
    """
    out = c.copy()
    out.inventory["logisticsNo"] = out.logistics["logisticsNo"] + "N"
    out.mistakes.append("INVENTORY_LOGISTICS")
    return out


def mistaken(c: Consignment, code: str) -> Consignment:
    """``with_mistake(c, code)``, with a safe INVENTORY_LOGISTICS (see ``misrouted``)."""
    return misrouted(c) if code == "INVENTORY_LOGISTICS" else with_mistake(c, code)
