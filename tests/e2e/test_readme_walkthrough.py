"""README's integrator walk-through, run as written on a fresh database: serve, demo, send the
examples, tail, explain, cancel; an export to 结关 (master bill, arrival, departure) and into a
summary. Also that README's review filter and action examples find
what they are about in the demo's data."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import httpx

from tests.databases import fresh_database
from tests.e2e.server import REPO_ROOT, free_port

README = REPO_ROOT / "README.md"


def walk_through() -> str:
    """The fenced block after README's ``<!-- walk-through -->`` marker."""
    text = README.read_text()
    match = re.search(r"<!-- walk-through -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match is not None, "README has no walk-through block"
    return match.group(1)


def clone(into: Path) -> Path:
    """What a fresh clone has that the walk-through uses, with a .venv that runs this tree
    (scripts/venv.sh finds it installed and leaves it alone)."""
    (into / "scripts").mkdir(parents=True)
    for name in ("serve", "sandan", "venv.sh"):
        shutil.copy2(REPO_ROOT / "scripts" / name, into / "scripts" / name)
    (into / "examples").symlink_to(REPO_ROOT / "examples")
    shutil.copy2(REPO_ROOT / "pyproject.toml", into / "pyproject.toml")
    bin_dir = into / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    sandan = bin_dir / "sandan"
    sandan.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m service.cli "$@"\n')
    sandan.chmod(0o755)
    (into / ".venv" / ".installed").touch()
    return into


def test_the_walk_through_runs_as_written(tmp_path: Path) -> None:
    root = clone(tmp_path / "clone")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "walk-through.log"
    with fresh_database(tmp_path) as database_url, log.open("wb") as out:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "SANDAN_DATABASE_URL": database_url,
            "SANDAN_PORT": str(port),
            "SANDAN_URL": url,
            "SANDAN_BUNDLE_DEADLINE_SECONDS": "3600",
        }
        env.pop("SANDAN_KEY", None)
        shell = subprocess.Popen(
            ["bash", "-c", "set -euo pipefail\n" + walk_through()],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the server it starts in the background is in its group
        )
        try:
            returncode = shell.wait(timeout=600)
            printed = log.read_text()
            assert returncode == 0, printed[-5000:]
            assert f"sandan is ready at {url}" in printed
            sent = [line for line in printed.splitlines() if re.match(r"^\S{36} \w+ ", line)]
            # import: 2 orders, 2 payments, 2 waybills, 2 inventories, 1 cancel; export: the
            # same four, a master bill, an arrival, a departure, a summary: all accepted
            assert [line.split()[3] for line in sent] == ["accepted"] * 21, printed[-5000:]
            assert [line.split()[1] for line in sent[8:9] + sent[17:]] == [
                "cancel",
                "masterbill",
                "arrival",
                "departure",
                "summary",
            ]
            assert "state    released" in printed
            assert "PAYMENT_REFERENCE (error)" in printed
            lines = printed.splitlines()
            # the server's log lines come in between; the receipts tail prints the last two
            receipts = [x for x in lines if x.startswith("{") and '"returnStatus":' in x]
            assert '"returnStatus":"399"' in receipts[-1], printed[-5000:]
            assert "state    closed" in printed

            keys = dict(
                re.findall(
                    r"^  (\w+) .*?(sk_\S+)$", (root / "demo-keys.txt").read_text(), re.MULTILINE
                )
            )
            with httpx.Client(base_url=url) as http:
                bundle = http.get(
                    "/v1/bundles/3301960001/EX2026120100000002",
                    headers={"Authorization": f"Bearer {keys['operator']}"},
                ).json()
            assert bundle["state"] == "closed"
            [sum_no] = re.findall(r"sumNo=(\w+)", sent[-1])
            # the curl of GET /v1/summaries/{sumNo}: curl writes its body and the newline of
            # -w '\n' apart, so a server log line can land right after the body on its line
            [summary] = [
                json.JSONDecoder().raw_decode(line)[0]
                for line in lines
                if line.startswith('{"sumNo":')
            ]
            assert (summary["sumNo"], summary["inventories"]) == (sum_no, [bundle["invtNo"]])
            assert summary["lines"] and bundle["summary"] == sum_no
            check_review_examples(url, keys["operator"])
        finally:
            with suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(30)


def check_review_examples(url: str, operator_key: str) -> None:
    """README's queue filter and CSV find bundles; its action and bulk action name exceptions
    at their versions."""
    text = README.read_text()
    [csv_query] = re.findall(r"/v1/review/exceptions\.csv\?([^\"]+)\"", text)
    bulk = re.findall(r'"orderNo": "(\w+)",\s+"version": (\d+)\}', text)
    assert len(bulk) == 2, bulk
    [query] = re.findall(r"/v1/review/exceptions\?([^\"]+)\"", text)
    [(ebp, order)] = set(re.findall(r"/v1/bundles/(\d+)/(\w+)/actions", text))
    [version] = re.findall(r'"action": "release", "reason": "[^"]+", "version": (\d+)', text)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {operator_key}"}) as http:
        queue = http.get(f"/v1/review/exceptions?{query}").json()
        assert queue["total"] > 0, query
        bundle = http.get(f"/v1/bundles/{ebp}/{order}").json()
        assert (bundle["state"], bundle["version"]) == ("exception", int(version))
        rows = http.get(f"/v1/review/exceptions.csv?{csv_query}").text.splitlines()
        assert len(rows) > 1, csv_query  # a header and at least one bundle
        for bulk_order, bulk_version in bulk:
            bundle = http.get(f"/v1/bundles/{ebp}/{bulk_order}").json()
            assert (bundle["state"], bundle["version"]) == ("exception", int(bulk_version))
