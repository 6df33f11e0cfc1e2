"""kill -9 a server while it ingests; restart it: nothing it answered "accepted" is lost and
every bundle it completed is decided."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import httpx

from service.config import Settings
from tests.databases import fresh_database
from tests.e2e.conftest import SENDER_OF, make_keys, server_environment
from tests.e2e.server import ServerProcess
from tests.production.cluster import Message, consignments, messages
from tests.production.inspect import query


def _post_until_dead(
    server: ServerProcess,
    keys: dict[str, str],
    plan: list[Message],
    accepted: set[str],
    started: threading.Event,
) -> int:
    """Post ``plan`` in order until the server stops answering; returns how many went."""
    sent = 0
    with httpx.Client(timeout=30) as client:
        for message in plan:
            try:
                response = client.post(
                    server.url + "/v1/messages",
                    content=message.body,
                    headers={
                        "Authorization": f"Bearer {keys[SENDER_OF[message.kind]]}",
                        "Content-Type": "application/xml",
                    },
                )
            except httpx.HTTPError:
                return sent
            sent += 1
            if response.status_code == 200:
                accepted.update(
                    d["guid"] for d in response.json()["documents"] if d["status"] == "accepted"
                )
                if len(accepted) >= 150:
                    started.set()
    return sent


def test_kill_9_under_load_loses_nothing_accepted(tmp_path: Path) -> None:
    rng = random.Random(9)
    items = consignments(600, first=700_000)
    plan = messages(items, 3, rng)
    with fresh_database(tmp_path) as url:
        keys = make_keys(Settings(database_url=url))
        server = ServerProcess(server_environment(url), tmp_path / "server.log")
        server.start()
        accepted: set[str] = set()
        started = threading.Event()
        workers = [
            threading.Thread(
                target=_post_until_dead,
                args=(server, keys, plan[i::4], accepted, started),
            )
            for i in range(4)
        ]
        for worker in workers:
            worker.start()
        assert started.wait(120), "the load never got going"
        server.kill()
        for worker in workers:
            worker.join(60)
        assert len(accepted) < 4 * len(items), "killed too late to prove anything"

        server.start()
        try:
            stored = {g for (g,) in query(url, "SELECT guid FROM documents")}
            assert accepted <= stored, f"{len(accepted - stored)} accepted documents lost"
            undecided = query(
                url,
                "SELECT b.id FROM bundles b WHERE b.state = 'pending' AND (SELECT count(DISTINCT "
                "d.kind) FROM documents d WHERE d.bundle_id = b.id AND d.status = 'current') = 4",
            )
            assert undecided == [], "a complete bundle was left undecided"
            seqs = [s for (s,) in query(url, "SELECT seq FROM manifest ORDER BY seq")]
            assert seqs == list(range(1, len(seqs) + 1))

            # the restarted server takes the rest (and the replays) and decides everything
            rest: set[str] = set()
            _post_until_dead(server, keys, plan, rest, threading.Event())
            states = dict(query(url, "SELECT state, count(*) FROM bundles GROUP BY state"))
            assert states == {"released": len(items)}, states
        finally:
            server.stop()
