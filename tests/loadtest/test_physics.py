"""The physics ceiling counts a message's documents and refuses what the service refuses."""

from __future__ import annotations

import random

import httpx

from loadtest.physics import PhysicsApp
from service.demo.consignments import clean_import, message_of
from service.messages.registry import Kind


async def post(body: bytes, request_id: str = "") -> httpx.Response:
    app = PhysicsApp()
    headers = {"X-Request-ID": request_id} if request_id else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://p") as c:
        return await c.post("/v1/messages", content=body, headers=headers)


async def test_a_valid_message_is_answered_with_its_document_count() -> None:
    consignments = [clean_import(random.Random(n), n) for n in range(1, 4)]
    response = await post(message_of(consignments, Kind.ORDER), request_id="7")
    assert response.status_code == 200
    assert response.json() == {"documents": 3, "valid": 3}
    # echoed, as the service does: the wrk driver matches answers to messages by it
    assert response.headers["x-request-id"] == "7"


async def test_a_schema_invalid_document_is_counted_but_not_valid() -> None:
    good = clean_import(random.Random(1), 1)
    bad = clean_import(random.Random(2), 2)
    bad.payment["amountPaid"] = "not a number"
    response = await post(message_of([good, bad], Kind.PAYMENT))
    assert response.json() == {"documents": 2, "valid": 1}


async def test_malformed_and_forbidden_xml_are_refused() -> None:
    response = await post(b"<not-xml")
    assert response.status_code == 400
    assert response.json()["code"] == "XML_MALFORMED"
    response = await post(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    assert response.json()["code"] == "XML_FORBIDDEN"


async def test_health_and_unknown_paths() -> None:
    app = PhysicsApp()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://p") as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        assert (await c.get("/v1/manifest")).status_code == 404
