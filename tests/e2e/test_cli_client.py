"""``sandan send``, ``tail`` and ``explain`` against a real server, and ``examples/`` through it.

The examples are the demo's enterprises' messages: the deployment's keys (``KEYS``) act for
the same codes as the keys ``sandan demo`` prints.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from service.demo.mistakes import with_mistake
from service.messages.registry import BUNDLE_KINDS, Kind
from tests.e2e.conftest import Deployment, fresh
from tests.e2e.server import REPO_ROOT, free_port
from tests.e2e.support import last_seq

EXAMPLES = REPO_ROOT / "examples"
# Who sends each example file, by its number: the bundle's four, then what follows them.
SENDERS = {"1": "platform", "2": "payment", "3": "logistics", "4": "agent"}
AFTER = {
    "import": {"5": "warehouse", "6": "platform", "7": "agent"},
    "export": {
        "5": "platform",
        "6": "agent",
        "7": "warehouse",
        "8": "logistics",
        "9": "platform",
        "10": "agent",
    },
}
PLACEHOLDER = {"import": "29242026I000000000", "export": "29242026E000000000"}
ORDER_NOS = {"import": "SD20261201000000", "export": "EX20261201000000"}
BILL_NOS = {"import": "SANDAN-EXAMPLE-I001", "export": "SANDAN-EXAMPLE-E001"}
SANDAN = [sys.executable, "-m", "service.cli"]
LINE = re.compile(r"^(\S+) (\S+) (\S+) (accepted|duplicate|rejected) (-?\d+) (\S+)$")


def cli(
    *args: str, key: str | None = None, url: str | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SANDAN_URL", "SANDAN_KEY")}
    if key is not None:
        env["SANDAN_KEY"] = key
    if url is not None:
        env["SANDAN_URL"] = url
    done = subprocess.run(
        [*SANDAN, *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def lines_of(out: str) -> list[tuple[str, ...]]:
    found = []
    for line in out.splitlines():
        match = LINE.match(line)
        assert match is not None, line
        found.append(match.groups())
    return found


def example(folder: str, number: str) -> Path:
    [path] = sorted((EXAMPLES / folder).glob(f"{number}-*.xml"))
    return path


def send_example(
    sandan: Deployment, folder: str, number: str, invt_no: str | None = None
) -> tuple[str, ...]:
    """Send one example after the bundle's four, the placeholder replaced by ``invt_no``; its
    single document's answer, accepted without findings."""
    body = example(folder, number).read_bytes()
    if invt_no is not None:
        body = body.replace(PLACEHOLDER[folder].encode(), invt_no.encode())
    role = AFTER[folder][number]
    sent = cli("send", "-", key=sandan.keys[role], url=sandan.server.url, stdin=body)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    [result] = lines_of(sent.stdout)
    assert (result[3], result[5]) == ("accepted", "-"), result
    return result


def invt_no_shown(sandan: Deployment, key: tuple[str, str]) -> str:
    """The invtNo `sandan explain` shows, as the README walk-through reads it."""
    shown = cli("explain", *key, key=sandan.keys["operator"], url=sandan.server.url)
    assert shown.returncode == 0, shown.stderr
    invt_no = shown.stdout.splitlines()[0].split()[-1]
    assert invt_no == sandan.bundle_json(key)["invtNo"]
    return invt_no


def test_every_example_file_is_sent_by_the_test() -> None:
    for folder in ("import", "export"):
        numbers = {p.name.split("-")[0] for p in (EXAMPLES / folder).glob("*.xml")}
        assert numbers == set(SENDERS) | set(AFTER[folder]), folder


@pytest.mark.parametrize("folder", ["import", "export"])
def test_every_example_is_accepted_with_the_demo_enterprises(
    sandan: Deployment, folder: str
) -> None:
    url = sandan.server.url
    for number, role in SENDERS.items():
        done = cli("send", str(example(folder, number)), key=sandan.keys[role], url=url)
        assert done.returncode == 0, done.stdout + done.stderr
        results = lines_of(done.stdout)
        assert [r[3] for r in results] == ["accepted", "accepted"], done.stdout
        assert {r[4] for r in results} == {"120"}
        assert [r[5] for r in results] == ["-", "-"]
    first, second = (("3301960001", f"{ORDER_NOS[folder]}{n:02d}") for n in (1, 2))
    for key in (first, second):
        assert sandan.bundle_json(key)["state"] == "released"

    # a replay is a duplicate, which is success too
    again = cli("send", str(example(folder, "4")), key=sandan.keys["agent"], url=url)
    assert again.returncode == 0, again.stderr
    assert [r[3] for r in lines_of(again.stdout)] == ["duplicate", "duplicate"]

    # the cancel, return, master bill and summary name Sandan's invtNo: the one `sandan
    # explain` shows; the arrival and departure name waybills
    cancelled, returned = invt_no_shown(sandan, first), invt_no_shown(sandan, second)
    if folder == "import":
        assert send_example(sandan, folder, "5")[1] == "arrival"
        for key in (first, second):
            assert sandan.bundle_json(key)["arrivedAt"] is not None
        cancel_number, return_number = "6", "7"
    else:
        cancel_number, return_number = "5", "10"
    result = send_example(sandan, folder, cancel_number, cancelled)
    assert (result[1], f"invtNo={cancelled}" in result[2]) == ("cancel", True)
    assert sandan.bundle_json(first)["state"] == "cancelled"
    if folder == "export":
        move_to_closed_and_summarise(sandan, second, returned)
    result = send_example(sandan, folder, return_number, returned)
    assert (result[1], f"invtNo={returned}" in result[2]) == ("return", True)
    assert sandan.bundle_json(second)["state"] == "returned"


def move_to_closed_and_summarise(sandan: Deployment, key: tuple[str, str], invt_no: str) -> None:
    """The export examples 6..9: bill of lading, arrival, departure (closed), summary."""
    assert send_example(sandan, "export", "6", invt_no)[1] == "masterbill"
    assert sandan.bundle_json(key)["billNo"] == BILL_NOS["export"]
    assert send_example(sandan, "export", "7")[1] == "arrival"
    assert sandan.bundle_json(key)["arrivedAt"] is not None
    assert sandan.bundle_json(key)["state"] == "released"
    assert send_example(sandan, "export", "8")[1] == "departure"
    bundle = sandan.bundle_json(key)
    assert (bundle["state"], bundle["departedAt"] is not None) == ("closed", True)
    result = send_example(sandan, "export", "9", invt_no)
    assert result[1] == "summary"
    [sum_no] = re.findall(r"sumNo=(\w+)", result[2])
    summary = sandan.client.get(f"/v1/summaries/{sum_no}", headers=sandan.headers("platform"))
    assert summary.status_code == 200, summary.text
    assert (summary.json()["sumNo"], summary.json()["inventories"]) == (sum_no, [invt_no])
    assert summary.json()["lines"]
    assert sandan.bundle_json(key)["summary"] == sum_no


def test_every_accepted_message_type_has_an_example() -> None:
    from service.messages.registry import MESSAGE_TYPES

    roots = set()
    for path in EXAMPLES.rglob("*.xml"):
        match = re.search(rb"<ceb:(CEB\d+Message) ", path.read_bytes())
        assert match is not None, path
        roots.add(match.group(1).decode())
    assert roots == set(MESSAGE_TYPES)


def test_send_a_rejected_document_exits_1_with_its_code(sandan: Deployment) -> None:
    c = fresh()
    body = c.message(Kind.ORDER)
    done = cli("send", "-", key=sandan.keys["other_platform"], url=sandan.server.url, stdin=body)
    assert done.returncode == 1, done.stdout + done.stderr
    [(guid, kind, key, status, return_status, codes)] = lines_of(done.stdout)
    assert (guid, kind, status, return_status) == (c.order["guid"], "order", "rejected", "100")
    assert key == f"ebpCode={c.order['ebpCode']},orderNo={c.order['orderNo']}"
    assert codes == "SENDER_MISMATCH"


def test_send_exits_1_on_a_message_refused_whole_and_goes_on(
    sandan: Deployment, tmp_path: Path
) -> None:
    bad = tmp_path / "not-xml.xml"
    bad.write_text("this is not XML")
    good = tmp_path / "order.xml"
    c = fresh()
    good.write_bytes(c.message(Kind.ORDER))
    missing = tmp_path / "missing.xml"
    done = cli(
        "send",
        str(bad),
        str(missing),
        str(good),
        key=sandan.keys["platform"],
        url=sandan.server.url,
    )
    assert done.returncode == 1
    assert f"{bad}: 400 XML_MALFORMED" in done.stderr
    assert str(missing) in done.stderr
    assert "Traceback" not in done.stderr
    # the good file after them was still sent
    [result] = lines_of(done.stdout)
    assert result[0] == c.order["guid"] and result[3] == "accepted"


def test_send_exits_1_on_a_bad_key_and_without_a_server(sandan: Deployment) -> None:
    body = fresh().message(Kind.ORDER)
    wrong = cli("send", "-", key="sk_not_a_key", url=sandan.server.url, stdin=body)
    assert wrong.returncode == 1
    assert "401 UNAUTHENTICATED" in wrong.stderr
    nobody = cli("send", "-", key="sk_x", url=f"http://127.0.0.1:{free_port()}", stdin=body)
    assert nobody.returncode == 1
    assert "no Sandan server answers at" in nobody.stderr
    assert "Traceback" not in nobody.stderr
    keyless = cli("send", "-", url=sandan.server.url, stdin=body)
    assert keyless.returncode == 2
    assert "SANDAN_KEY" in keyless.stderr


def test_send_shows_no_progress_bar_off_a_terminal(sandan: Deployment, tmp_path: Path) -> None:
    paths = []
    for n in range(5):
        path = tmp_path / f"order-{n}.xml"
        path.write_bytes(fresh().message(Kind.ORDER))
        paths.append(str(path))
    done = cli("send", *paths, key=sandan.keys["platform"], url=sandan.server.url)
    assert done.returncode == 0, done.stderr
    assert len(lines_of(done.stdout)) == 5
    assert done.stderr == ""


def _json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_tail_prints_the_feeds_as_json_lines_and_exits_caught_up(sandan: Deployment) -> None:
    for _ in range(3):
        sandan.send_all(fresh())
    url = sandan.server.url
    done = cli("tail", "manifest", "--limit", "2", key=sandan.keys["operator"], url=url)
    assert done.returncode == 0, done.stderr
    printed = _json_lines(done.stdout)
    assert printed == sandan.manifest(after=0, limit=1000)["entries"]
    seqs = [e["seq"] for e in printed]
    assert seqs == sorted(seqs) and len(seqs) >= 3

    middle = seqs[len(seqs) // 2]
    after = cli("tail", "manifest", "--after", str(middle), key=sandan.keys["operator"], url=url)
    assert [e["seq"] for e in _json_lines(after.stdout)] == [s for s in seqs if s > middle]

    receipts = cli("tail", "receipts", key=sandan.keys["agent"], url=url)
    assert receipts.returncode == 0, receipts.stderr
    rows = _json_lines(receipts.stdout)
    page = sandan.client.get(
        "/v1/receipts", params={"after": 0, "limit": 1000}, headers=sandan.headers("agent")
    ).json()
    assert rows == page["receipts"]
    assert {"120", "800"} <= {
        r["returnStatus"] for r in rows if r["messageType"] == "CEB622Message"
    }

    nobody = cli("tail", "manifest", key="sk_x", url=f"http://127.0.0.1:{free_port()}")
    assert nobody.returncode == 1 and "Traceback" not in nobody.stderr


def test_tail_follow_prints_new_entries_as_they_are_decided(sandan: Deployment) -> None:
    start = last_seq(sandan)
    process = subprocess.Popen(
        [*SANDAN, "tail", "manifest", "--follow", "--after", str(start), "--wait", "1"],
        cwd=REPO_ROOT,
        env={**os.environ, "SANDAN_URL": sandan.server.url, "SANDAN_KEY": sandan.keys["operator"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or ()])
    reader.start()
    try:
        consignments = [fresh(), fresh()]
        for c in consignments:
            sandan.send_all(c)
        seen = [json.loads(lines.get(timeout=30)) for _ in consignments]
        assert [e["orderNo"] for e in seen] == [c.order["orderNo"] for c in consignments]
        assert all(e["seq"] > start and e["decision"] == "release" for e in seen)
        assert process.poll() is None  # still following
    finally:
        process.terminate()
        process.wait(15)
        reader.join(15)


def test_explain_shows_each_finding_with_both_values(sandan: Deployment) -> None:
    c = with_mistake(fresh(), "PAYMENT_AMOUNT")
    for kind in BUNDLE_KINDS:
        sandan.send(c, kind)
    key = (c.order["ebpCode"], c.order["orderNo"])
    done = cli("explain", *key, key=sandan.keys["operator"], url=sandan.server.url)
    assert done.returncode == 0, done.stderr
    bundle = sandan.bundle_json(key)
    out = done.stdout.splitlines()
    assert out[0].split() == ["bundle", *key, "invtNo", bundle["invtNo"]]
    assert out[1].split() == ["state", "exception"]
    assert out[2] == "regime   I declared 9610, classified 9610"
    [finding] = [f for f in bundle["findings"] if f["code"] == "PAYMENT_AMOUNT"]
    assert any(line.strip().startswith("PAYMENT_AMOUNT (error)") for line in out)
    for compared in finding["fields"]:
        left, right = compared["left"], compared["right"]
        expected = (
            f"{left['document']}.{left['field']} = {left['value']}  vs  "
            f"{right['document']}.{right['field']} = {right['value']}"
        )
        assert expected in done.stdout

    unknown = cli(
        "explain", key[0], "NO-SUCH-ORDER", key=sandan.keys["operator"], url=sandan.server.url
    )
    assert unknown.returncode == 1
    assert "404 NOT_FOUND" in unknown.stderr


def test_demo_without_a_server_says_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "demo", "--url", url, "--wait", "1"],
        cwd=REPO_ROOT,
        env={**os.environ, "SANDAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"no Sandan server answers at {url} (waited 1 s)" in done.stderr
    assert "Traceback" not in done.stderr
    # nothing was made for a demo that did not play
    assert "sk_" not in done.stdout


def test_demo_at_a_server_of_another_database_says_so(sandan: Deployment, tmp_path: Path) -> None:
    elsewhere = f"sqlite+aiosqlite:///{tmp_path / 'not-the-servers.db'}"
    done = subprocess.run(
        [*SANDAN, "demo", "--url", sandan.server.url, "--consignments", "2"],
        cwd=REPO_ROOT,
        env={**os.environ, "SANDAN_DATABASE_URL": elsewhere},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"the server at {sandan.server.url} does not know the keys just made in" in done.stderr
    assert "Traceback" not in done.stderr
