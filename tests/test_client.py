"""service.client without a server: how answers map to results and typed errors, the feeds'
paging, and the send command's progress bar (the rest runs against a real server in
tests/e2e/test_cli_client.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from service import client as client_module
from service.cli_client import Progress, document_line
from service.client import (
    Forbidden,
    NotFound,
    ProblemError,
    RateLimited,
    SandanClient,
    ServerUnreachable,
    Unauthenticated,
    Unavailable,
)


def serving(handler: Callable[[httpx.Request], httpx.Response]) -> SandanClient:
    sandan = SandanClient("http://sandan.test", key="sk_test")
    sandan._http = httpx.Client(
        base_url="http://sandan.test",
        transport=httpx.MockTransport(handler),
        headers={"Authorization": "Bearer sk_test"},
    )
    return sandan


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, Unauthenticated),
        (403, Forbidden),
        (404, NotFound),
        (503, Unavailable),
        (415, ProblemError),
    ],
)
def test_a_problem_answer_is_its_typed_error_with_the_code(
    status: int, kind: type[ProblemError]
) -> None:
    body = {"code": "SOME_CODE", "message": "why"}
    sandan = serving(lambda _request: httpx.Response(status, json=body))
    with pytest.raises(kind) as raised:
        sandan.post_message(b"<x/>")
    assert type(raised.value) is kind
    assert (raised.value.status, raised.value.code, raised.value.message) == (
        status,
        "SOME_CODE",
        "why",
    )
    assert str(raised.value) == f"{status} SOME_CODE: why"


def test_rate_limited_carries_retry_after_and_a_body_that_is_not_json_still_has_a_code() -> None:
    sandan = serving(
        lambda _r: httpx.Response(429, headers={"Retry-After": "3"}, json={"code": "RATE_LIMITED"})
    )
    with pytest.raises(RateLimited) as raised:
        sandan.bundle("3301960001", "SD1")
    assert raised.value.retry_after == 3.0
    proxy = serving(lambda _r: httpx.Response(502, text="Bad Gateway from the proxy"))
    with pytest.raises(ProblemError) as problem:
        proxy.bundle("3301960001", "SD1")
    assert (problem.value.code, problem.value.message) == (
        "HTTP_ERROR",
        "Bad Gateway from the proxy",
    )


def test_no_server_is_server_unreachable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ServerUnreachable, match=r"no Sandan server answers at http://sandan\.test"):
        serving(refuse).manifest()
    assert not serving(refuse).healthy()


def test_caught_up_pages_on_until_an_empty_page_and_follow_long_polls() -> None:
    seen: list[dict[str, str]] = []

    def feed(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        after = int(params["after"])
        items = [{"seq": s} for s in range(after + 1, min(after + 2, 5) + 1)]
        nxt = items[-1]["seq"] if items else after
        return httpx.Response(200, json={"receipts": items, "next": nxt})

    sandan = serving(feed)
    assert [r["seq"] for r in sandan.caught_up("receipts", 1, limit=2)] == [2, 3, 4, 5]
    assert [p["after"] for p in seen] == ["1", "3", "5"]
    assert all(p["wait"] == "0" for p in seen)
    seen.clear()
    followed = sandan.follow("receipts", 3, wait=7)
    assert [next(followed)["seq"] for _ in range(2)] == [4, 5]
    assert seen[0] == {"after": "3", "limit": "100", "wait": "7"}
    assert sandan._http.headers["Authorization"] == "Bearer sk_test"


def test_the_client_imports_nothing_of_sandan() -> None:
    source = Path(client_module.__file__).read_text(encoding="utf-8")
    assert "from service" not in source.replace("from service.client import", "")
    assert "import service" not in source


def test_document_line_and_the_progress_bar_only_on_a_terminal() -> None:
    line = document_line(
        json.loads(
            '{"guid": "G", "kind": "order", "key": {"ebpCode": "E", "orderNo": "O"}, '
            '"status": "rejected", "returnStatus": "100", '
            '"errors": [{"code": "SENDER_MISMATCH"}, {"code": "SCHEMA_INVALID"}]}'
        )
    )
    assert line == "G order ebpCode=E,orderNo=O rejected 100 SENDER_MISMATCH,SCHEMA_INVALID"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = Terminal()
    bar = Progress(4, shown)
    for _ in range(4):
        bar.step()
    assert shown.getvalue().endswith("] 4/4 files\n")
    quiet = io.StringIO()
    off = Progress(40, quiet)
    off.step()
    few = Terminal()
    Progress(3, few).step()
    assert quiet.getvalue() == few.getvalue() == ""


def test_the_sandan_command_imports_no_http_client_until_one_is_needed() -> None:
    # Each `sandan serve` worker imports service.cli again while uvicorn's supervisor waits
    # for its first answer (5 s); a slower import under load had workers killed and respawned.
    import subprocess
    import sys

    from service import cli_client, client

    assert cli_client.FOLLOW_WAIT == client.FOLLOW_WAIT
    done = subprocess.run(
        [sys.executable, "-c", "import sys, service.cli; print('httpx' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.stdout.strip() == "False", done.stderr
