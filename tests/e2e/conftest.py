"""A real Sandan server (uvicorn in a subprocess, SQLite) and an httpx client for it."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import Settings
from service.demo.consignments import DEMO_PARTIES, Consignment, clean_import
from service.messages.registry import BUNDLE_KINDS, Kind
from service.security.provision import create_api_key
from tests.databases import fresh_database
from tests.e2e.server import ServerProcess

P = DEMO_PARTIES
# role name -> (codes, roles)
KEYS: dict[str, tuple[list[str], list[str]]] = {
    "platform": ([P.platform.code, P.ebc.code], ["platform"]),
    "payment": ([P.payment.code], ["payment"]),
    "logistics": ([P.carrier.code], ["logistics"]),
    "agent": ([P.agent.code], ["agent"]),
    "operator": (["2924"], ["operator"]),
    "warehouse": ([P.carrier.code], ["warehouse"]),
    "other_platform": (["9999990001"], ["platform"]),
    "other_warehouse": (["9999990004"], ["warehouse"]),
    "nobody": (["9999990009"], ["warehouse"]),
}
SENDER_OF = {
    Kind.ORDER: "platform",
    Kind.PAYMENT: "payment",
    Kind.LOGISTICS: "logistics",
    Kind.INVENTORY: "agent",
}


@dataclass
class Deployment:
    server: ServerProcess
    keys: dict[str, str]
    settings: Settings
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.server.url, timeout=60)

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **extra}

    def post(self, body: bytes, role: str, *, accept: str | None = None) -> httpx.Response:
        headers = self.headers(role, **{"Content-Type": "application/xml"})
        if accept:
            headers["Accept"] = accept
        return self.client.post("/v1/messages", content=body, headers=headers)

    def send(self, consignment: Consignment, kind: Kind, role: str | None = None) -> dict[str, Any]:
        """Post one document of ``consignment``; its single result."""
        response = self.post(consignment.message(kind), role or SENDER_OF[kind])
        assert response.status_code == 200, response.text
        documents = response.json()["documents"]
        assert len(documents) == 1
        result: dict[str, Any] = documents[0]
        return result

    def send_all(self, consignment: Consignment, kinds: list[Kind] | None = None) -> None:
        for kind in kinds or list(BUNDLE_KINDS):
            result = self.send(consignment, kind)
            assert result["status"] == "accepted", result

    def bundle(self, key: tuple[str, str], role: str = "operator") -> httpx.Response:
        return self.client.get(f"/v1/bundles/{key[0]}/{key[1]}", headers=self.headers(role))

    def bundle_json(self, key: tuple[str, str]) -> dict[str, Any]:
        response = self.bundle(key)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def manifest(self, role: str = "operator", **params: Any) -> dict[str, Any]:
        response = self.client.get("/v1/manifest", params=params, headers=self.headers(role))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def entries_for(self, key: tuple[str, str]) -> list[dict[str, Any]]:
        return [
            e
            for e in self.manifest(after=0, limit=1000)["entries"]
            if (e["ebpCode"], e["orderNo"]) == key
        ]


KeySpec = dict[str, tuple[list[str], list[str]]]


def server_environment(url: str, **env: str) -> dict[str, str]:
    return {
        "SANDAN_DATABASE_URL": url,
        "SANDAN_BUNDLE_DEADLINE_SECONDS": "3600",
        "SANDAN_SWEEP_INTERVAL_SECONDS": "0.3",
        "SANDAN_MANIFEST_POLL_INTERVAL_SECONDS": "0.2",
        **env,
    }


def make_keys(settings: Settings, keys: KeySpec | None = None) -> dict[str, str]:
    """API keys in the database ``settings`` names: role name -> key."""

    async def create() -> dict[str, str]:
        return {
            role: await create_api_key(settings, codes, roles, role)
            for role, (codes, roles) in (KEYS if keys is None else keys).items()
        }

    return asyncio.run(create())


@contextmanager
def deploy(tmp_path: Path, keys: KeySpec | None = None, **env: str) -> Iterator[Deployment]:
    """A fresh server on a new database (tests/databases.py: SQLite, or PostgreSQL when
    SANDAN_TEST_DATABASE_URL says so); ``keys`` (role name -> (codes, roles)) defaults to
    ``KEYS``."""
    with fresh_database(tmp_path) as url:
        settings = Settings(database_url=url)
        api_keys = make_keys(settings, keys)
        server = ServerProcess(server_environment(url, **env), tmp_path / "server.log")
        server.start()
        deployment = Deployment(server, api_keys, settings)
        try:
            yield deployment
        finally:
            deployment.client.close()
            server.stop()


@pytest.fixture(scope="module")
def sandan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A server with the default 1 h deadline, shared by a test module."""
    with deploy(tmp_path_factory.mktemp("sandan")) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def hasty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A server whose bundles reach their deadline after 1.5 s."""
    with deploy(
        tmp_path_factory.mktemp("hasty"), SANDAN_BUNDLE_DEADLINE_SECONDS="1.5"
    ) as deployment:
        yield deployment


_numbers = itertools.count(1)


def fresh(regime: str = "9610", **options: Any) -> Consignment:
    """A clean consignment with an order number no other test uses."""
    number = next(_numbers)
    return clean_import(random.Random(number), number, regime=regime, **options)
