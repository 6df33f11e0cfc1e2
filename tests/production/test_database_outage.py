"""PostgreSQL out of reach: ingest answers 503 with Retry-After, writes nothing partial, and
the service recovers by itself when the database is back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from service.config import Settings
from service.demo.consignments import Consignment
from service.messages.registry import Kind
from tests.databases import fresh_database, on_postgres
from tests.e2e.conftest import Deployment, make_keys, server_environment
from tests.e2e.server import ServerProcess
from tests.production.cluster import consignments
from tests.production.inspect import query
from tests.production.proxy import Proxy

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="a database server to lose is PostgreSQL: set SANDAN_TEST_DATABASE_URL",
)


def test_ingest_answers_503_while_the_database_is_away_and_recovers(tmp_path: Path) -> None:
    first, second = consignments(2, first=800_000)
    with fresh_database(tmp_path) as url:
        parsed = make_url(url)
        with Proxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
            proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )
            keys = make_keys(Settings(database_url=url))
            server = ServerProcess(server_environment(proxied), tmp_path / "server.log")
            server.start()
            deployment = Deployment(server, keys, Settings(database_url=proxied))
            try:
                assert deployment.send(first, Kind.ORDER)["status"] == "accepted"

                proxy.cut()
                refused = deployment.post(second.message(Kind.ORDER), "platform")
                assert refused.status_code == 503, refused.text
                assert refused.headers.get("Retry-After")
                assert refused.json()["code"] == "UNAVAILABLE"
                ready = deployment.client.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["database"] != "ok"
                stored = query(
                    url, "SELECT count(*) FROM documents WHERE guid = :g", g=second.order["guid"]
                )
                assert stored == [(0,)], "a refused message left a document behind"

                proxy.restore()
                again = deployment.send(second, Kind.ORDER)
                assert again["status"] == "accepted", again
                assert deployment.client.get("/readyz").status_code == 200
            finally:
                deployment.client.close()
                server.stop()


def test_every_route_answers_503_while_the_database_is_away(tmp_path: Path) -> None:
    """Not only a cached key's POST: another key's POST, the manifest, the bundle, the review
    queue and the admin routes all need the database, and all say 503 with Retry-After."""
    first, second = consignments(2, first=810_000)
    with fresh_database(tmp_path) as url:
        parsed = make_url(url)
        with Proxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
            proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )
            keys = make_keys(Settings(database_url=url))
            server = ServerProcess(server_environment(proxied), tmp_path / "server.log")
            server.start()
            deployment = Deployment(server, keys, Settings(database_url=proxied))
            try:
                assert deployment.send(first, Kind.ORDER)["status"] == "accepted"
                proxy.cut()
                _all_unavailable(deployment, second)
                proxy.restore()
                assert deployment.send(second, Kind.ORDER)["status"] == "accepted"
            finally:
                deployment.client.close()
                server.stop()


def test_a_server_started_without_its_database_answers_503_then_recovers(
    tmp_path: Path,
) -> None:
    (consignment,) = consignments(1, first=820_000)
    with fresh_database(tmp_path) as url:
        parsed = make_url(url)
        with Proxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
            proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )
            keys = make_keys(Settings(database_url=url))
            proxy.cut()
            server = ServerProcess(server_environment(proxied), tmp_path / "server.log")
            server.start()
            deployment = Deployment(server, keys, Settings(database_url=proxied))
            try:
                _all_unavailable(deployment, consignment)
                proxy.restore()
                assert deployment.send(consignment, Kind.ORDER)["status"] == "accepted"
                assert deployment.client.get("/readyz").status_code == 200
            finally:
                deployment.client.close()
                server.stop()


def _all_unavailable(deployment: Deployment, consignment: Consignment) -> None:
    ebp, order_no = consignment.key
    requests = [
        ("POST", "/v1/messages", "payment", consignment.message(Kind.PAYMENT)),
        ("POST", "/v1/messages", "platform", consignment.message(Kind.ORDER)),
        ("GET", "/v1/manifest?after=0", "warehouse", None),
        ("GET", "/v1/receipts?after=0", "platform", None),
        ("GET", f"/v1/bundles/{ebp}/{order_no}", "platform", None),
        ("GET", "/v1/review/exceptions", "operator", None),
    ]
    for method, path, role, body in requests:
        headers = deployment.headers(role, **{"Content-Type": "application/xml"})
        answer = deployment.client.request(method, path, headers=headers, content=body)
        assert answer.status_code == 503, (method, path, answer.status_code, answer.text)
        assert answer.headers.get("Retry-After"), (method, path)
        assert answer.json()["code"] == "UNAVAILABLE", (method, path)
    assert deployment.client.get("/readyz").status_code == 503
    assert deployment.client.get("/healthz").status_code == 200
