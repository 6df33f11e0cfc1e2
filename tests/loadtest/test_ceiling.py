"""The parse-and-validate-only ceiling answers like ingest, and stores nothing."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from loadtest.ceiling import create_ceiling_app
from service.config import Settings
from service.demo.consignments import clean_import, message_of
from service.demo.play import DEMO_KEYS
from service.messages.registry import Kind
from service.security.provision import create_api_key
from service.store import tables
from service.store.database import Database
from tests.databases import afresh_database


class Ceiling:
    def __init__(self, client: httpx.AsyncClient, keys: dict[str, str], url: str) -> None:
        self.client, self.keys, self.url = client, keys, url

    async def post(self, role: str, body: bytes) -> tuple[int, Any]:
        response = await self.client.post(
            "/v1/messages",
            content=body,
            headers={
                "Authorization": f"Bearer {self.keys.get(role, role)}",
                "Content-Type": "application/xml",
            },
        )
        return response.status_code, response.json()

    async def stored(self) -> int:
        db = Database(self.url)
        try:
            async with db.read() as conn:
                count = await conn.scalar(select(func.count()).select_from(tables.documents))
        finally:
            await db.dispose()
        return int(count or 0)


@asynccontextmanager
async def ceiling(tmp_path: Path) -> AsyncIterator[Ceiling]:
    async with afresh_database(tmp_path) as url:
        settings = Settings(database_url=url)
        keys = {
            k.role: await create_api_key(settings, list(k.codes), [k.role], k.name)
            for k in DEMO_KEYS
        }
        app = create_ceiling_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://c") as client,
        ):
            yield Ceiling(client, keys, url)


async def test_valid_documents_are_accepted_and_nothing_is_stored(tmp_path: Path) -> None:
    async with ceiling(tmp_path) as c:
        consignments = [clean_import(random.Random(n), n) for n in range(1, 4)]
        status, body = await c.post("platform", message_of(consignments, Kind.ORDER))
        assert status == 200
        assert body["message"]["type"] == "CEB311Message"
        assert [d["status"] for d in body["documents"]] == ["accepted"] * 3
        assert [d["returnStatus"] for d in body["documents"]] == ["120"] * 3
        first = consignments[0].key
        assert body["documents"][0]["key"] == {"ebpCode": first[0], "orderNo": first[1]}
        # the same message again: the ceiling has no memory, so no DUPLICATE either
        status, body = await c.post("platform", message_of(consignments, Kind.ORDER))
        assert [d["status"] for d in body["documents"]] == ["accepted"] * 3
        assert await c.stored() == 0


async def test_schema_sender_and_role_checks_answer_like_the_service(tmp_path: Path) -> None:
    async with ceiling(tmp_path) as c:
        bad = clean_import(random.Random(7), 7)
        bad.payment["amountPaid"] = "not a number"
        status, body = await c.post("payment", bad.message(Kind.PAYMENT))
        assert status == 200
        (document,) = body["documents"]
        assert document["status"] == "rejected"
        assert document["errors"][0]["code"] == "SCHEMA_INVALID"

        good = clean_import(random.Random(8), 8)
        _, body = await c.post("payment", good.message(Kind.PAYMENT, cop_code="9999999999"))
        (document,) = body["documents"]
        assert document["errors"][0]["code"] == "SENDER_MISMATCH"

        # a carrier's key may not post orders
        status, _ = await c.post("logistics", good.message(Kind.ORDER))
        assert status == 403


async def test_bad_keys_and_bad_xml_are_refused(tmp_path: Path) -> None:
    async with ceiling(tmp_path) as c:
        order = clean_import(random.Random(9), 9).message(Kind.ORDER)
        status, _ = await c.post("sk_nobody", order)
        assert status == 401
        status, body = await c.post("platform", b"<not-xml")
        assert status == 400
        assert body["code"] == "XML_MALFORMED"
