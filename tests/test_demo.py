"""``sandan demo`` against a running deployment: keys seeded in its database, traffic over HTTP,
and a manifest that shows both decisions for both import regimes."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.e2e.conftest import deploy
from tests.e2e.server import REPO_ROOT

DEMO_ROLES = ("platform", "payment", "logistics", "agent", "operator", "warehouse")


def test_demo_fills_the_manifest(tmp_path: Path) -> None:
    with deploy(tmp_path) as deployment:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "service.cli",
                "demo",
                "--url",
                deployment.server.url,
                "--consignments",
                "40",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "SANDAN_DATABASE_URL": deployment.settings.database_url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout

        # the keys, one line per demo role, each usable against the server
        keys = dict(re.findall(r"^\s+(\w+)\s+.*?(sk_\S+)\s*$", out, re.MULTILINE))
        assert set(keys) == set(DEMO_ROLES), out
        response = deployment.client.get(
            "/v1/manifest",
            params={"after": 0, "limit": 1},
            headers={"Authorization": f"Bearer {keys['operator']}"},
        )
        assert response.status_code == 200, response.text

        # the summary: what was posted and what the manifest holds
        posted = re.search(r"^posted (\d+) documents: (.*)$", out, re.MULTILINE)
        assert posted is not None, out
        assert int(posted.group(1)) >= 40 * 3
        assert "'accepted'" in posted.group(2)
        held = re.search(r"^manifest now holds (\d+) entries: (.*)$", out, re.MULTILINE)
        assert held is not None, out
        assert int(held.group(1)) > 0

        entries = deployment.manifest(after=0, limit=1000)["entries"]
        # nothing is decided after the demo ends (the deadline is an hour): the summary is exact
        assert len(entries) == int(held.group(1))
        assert ast.literal_eval(held.group(2)) == Counter(e["decision"] for e in entries)
        mix = Counter((e["regime"], e["decision"]) for e in entries)
        for regime in ("9610", "1210"):
            for decision in ("release", "exception"):
                assert mix[(regime, decision)] > 0, (regime, decision, dict(mix))
        assert all(e["by"] == "engine" for e in entries)
        # an exception always says why
        for e in entries:
            if e["decision"] == "exception":
                assert e["rules"], e
