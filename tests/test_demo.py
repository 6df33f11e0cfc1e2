"""``sandan demo`` against a running deployment: keys seeded in its database, traffic over HTTP,
a manifest that shows both decisions for both import regimes, and the cancels and returns
played after them (SPEC §10)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from service.demo.consignments import DEMO_PARTIES
from tests.e2e.conftest import Deployment, deploy
from tests.e2e.server import REPO_ROOT

DEMO_ROLES = ("platform", "payment", "logistics", "agent", "operator", "warehouse")
# "  cancelled released import SD… (invtNo …): accepted, now cancelled"
DONE_LINE = re.compile(
    r"^  (cancelled|returned) (.*?)(SD\d+|EX\d+) \(invtNo (\w{18})\): accepted(.*), now (\w+)$",
    re.MULTILINE,
)


def run_demo(deployment: Deployment, consignments: int) -> str:
    """``sandan demo`` against the deployment, as a newcomer runs it; what it printed."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "demo",
            "--url",
            deployment.server.url,
            "--consignments",
            str(consignments),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "SANDAN_DATABASE_URL": deployment.settings.database_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def operator_key(out: str) -> str:
    keys = dict(re.findall(r"^\s+(\w+)\s+.*?(sk_\S+)\s*$", out, re.MULTILINE))
    return keys["operator"]


def test_demo_fills_the_manifest(tmp_path: Path) -> None:
    with deploy(tmp_path) as deployment:
        out = run_demo(deployment, 40)

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
        # the engine decides; the platform's key cancels (for its ebc), the agent's declares
        # the returns: a lifecycle entry is `by` the sending key's code
        by = {
            "cancel": {DEMO_PARTIES.platform.code},
            "return": {DEMO_PARTIES.agent.code},
            "close": {DEMO_PARTIES.carrier.code},  # the carrier's departure closes
        }
        for e in entries:
            assert e["by"] in by.get(e["decision"], {"engine"}), e
        # an exception always says why
        for e in entries:
            if e["decision"] == "exception":
                assert e["rules"], e

        lifecycle_played_as_printed(deployment, out, keys["operator"], entries)
        # exports that departed are closed (结关), and the demo says so
        closed = {(e["ebpCode"], e["orderNo"]) for e in entries if e["decision"] == "close"}
        assert closed, out
        assert out.count(" now closed") >= len(closed), out
        for key in closed:
            assert deployment.bundle_json(key)["state"] == "closed"
        summary_played_as_printed(deployment, out, keys["operator"], entries)


def summary_played_as_printed(
    deployment: Deployment, out: str, operator_key: str, entries: list[dict[str, object]]
) -> None:
    """The demo's export summary: every export list released today and neither cancelled
    nor returned, in the number of lines it printed."""
    found = re.search(r"^  summary (\S+): (\d+) export lists in (\d+) lines", out, re.MULTILINE)
    assert found is not None, out
    sum_no, inventories, lines = found.group(1), int(found.group(2)), int(found.group(3))
    headers = {"Authorization": f"Bearer {operator_key}"}
    summary = deployment.client.get(f"/v1/summaries/{sum_no}", headers=headers).json()
    assert (len(summary["inventories"]), len(summary["lines"])) == (inventories, lines)
    last: dict[object, object] = {}
    for e in entries:
        last[e["invtNo"]] = e["decision"]
    exported = {
        e["invtNo"]
        for e in entries
        if e["direction"] == "E"
        and e["regime"] in ("9610", "1210")
        and last[e["invtNo"]] in ("release", "close")
    }
    assert set(summary["inventories"]) == exported


IMPORT_STEPS = {
    ("cancelled", "import", "cancelled"): 2,
    ("returned", "import", "released"): 1,
    ("returned", "import", "returned"): 1,
}
EXPORT_STEPS = {("cancelled", "export", "cancelled"): 1, ("returned", "export", "returned"): 1}


def lifecycle_summary(done: list[tuple[str, ...]]) -> Counter[tuple[str, str, str]]:
    """(verb, direction, state after) of each printed cancel or return."""
    return Counter(
        (verb, "import" if number.startswith("SD") else "export", state)
        for verb, _, number, _, _, state in done
    )


def test_a_short_demo_plays_more_consignments_for_the_lifecycle(tmp_path: Path) -> None:
    # Two consignments cannot show every import step: the demo plays the ones it lacks.
    with deploy(tmp_path) as deployment:
        out = run_demo(deployment, 2)
        summary = lifecycle_summary(DONE_LINE.findall(out))
        assert Counter({k: v for k, v in summary.items() if k[1] == "import"}) == Counter(
            IMPORT_STEPS
        ), out
        assert "cancelled pending import" in out, out
        headers = {"Authorization": f"Bearer {operator_key(out)}"}
        for state, n in (("cancelled", 2), ("returned", 1)):
            queue = deployment.client.get(
                "/v1/review/exceptions", params={"state": state}, headers=headers
            ).json()
            assert sum(i["direction"] == "I" for i in queue["items"]) == n, queue


def lifecycle_played_as_printed(
    deployment: Deployment, out: str, operator_key: str, entries: list[dict[str, object]]
) -> None:
    """The demo's cancels and returns: what it printed is what the API shows."""
    headers = {"Authorization": f"Bearer {operator_key}"}
    done = DONE_LINE.findall(out)
    assert lifecycle_summary(done) == Counter({**IMPORT_STEPS, **EXPORT_STEPS}), out
    assert "cancelled pending import" in out and "cancelled released import" in out, out
    by_number = {}
    for verb, _, number, invt_no, _, state in done:
        ebp = DEMO_PARTIES.platform.code
        response = deployment.client.get(f"/v1/bundles/{ebp}/{number}", headers=headers)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert (bundle["invtNo"], bundle["state"]) == (invt_no, state), bundle
        if verb == "cancelled":
            assert bundle["cancelledAt"] and not bundle["returns"], bundle
        else:
            (returned,) = bundle["returns"]
            assert returned["invtNo"] == invt_no and returned["lines"], returned
        # the history ends with the document's event and the manifest entry it made
        lifecycle, decision = bundle["history"][-2:]
        kind = "cancel" if verb == "cancelled" else "return"
        assert (lifecycle["event"], lifecycle["kind"]) == ("lifecycle", kind), lifecycle
        assert (decision["event"], decision["decision"]) == ("decision", kind), decision
        by_number[number] = bundle
    decisions = Counter(e["decision"] for e in entries)
    assert (decisions["cancel"], decisions["return"]) == (3, 3), decisions

    # the review queue filters by the new states and the dashboard counts them alike
    totals = {}
    for state in ("cancelled", "returned"):
        response = deployment.client.get(
            "/v1/review/exceptions", params={"state": state, "size": 100}, headers=headers
        )
        assert response.status_code == 200, response.text
        queue = response.json()
        assert {i["orderNo"] for i in queue["items"]} == {
            n for n, b in by_number.items() if b["state"] == state
        }
        totals[state] = queue["total"]
    assert totals == {"cancelled": 3, "returned": 2}
    dashboard = deployment.client.get("/v1/review/dashboard", headers=headers).json()
    states = {row["state"]: row["bundles"] for row in dashboard["bundlesByState"]}
    assert {s: states.get(s) for s in totals} == totals, dashboard["bundlesByState"]
