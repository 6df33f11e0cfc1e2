"""``sandan send``, ``sandan tail`` and ``sandan explain``: the integrator's commands.

They talk HTTP to any Sandan server through ``service.client`` and never open a database.
``--url`` and ``--key`` default to ``SANDAN_URL`` and ``SANDAN_KEY``. The client (and httpx) is
imported when a command runs: every ``sandan`` process builds this parser, and each of
``serve``'s worker processes imports ``service.cli`` again while its supervisor waits for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.client import DocumentResult, Feed, SandanClient, SandanClientError

DEFAULT_URL = "http://127.0.0.1:8000"
# Statuses after which nothing more needs doing about a document.
SETTLED = frozenset({"accepted", "duplicate"})
# More files than this get a progress bar (on a terminal).
PROGRESS_FROM = 3
# service.client.FOLLOW_WAIT, without importing it
FOLLOW_WAIT = 25.0


def _client(args: argparse.Namespace) -> SandanClient | None:
    from service.client import SandanClient

    if not args.key:
        print(f"sandan {args.command}: give --key or set SANDAN_KEY", file=sys.stderr)
        return None
    return SandanClient(args.url, args.key)


def _failed(args: argparse.Namespace, error: SandanClientError, what: str = "") -> int:
    print(f"sandan {args.command}: {what}{error}", file=sys.stderr)
    return 1


# --- send --------------------------------------------------------------------------------


def document_line(doc: DocumentResult) -> str:
    """guid, kind, key, status, returnStatus, codes: one document's answer on one line."""
    key = ",".join(f"{name}={value}" for name, value in doc.get("key", {}).items() if value)
    codes = ",".join(e.get("code", "?") for e in doc.get("errors", []))
    fields = (doc["guid"], doc["kind"], key, doc["status"], doc["returnStatus"], codes)
    return " ".join(value or "-" for value in fields)


class Progress:
    """A one-line bar on a terminal's stderr: n/total files; nothing elsewhere."""

    def __init__(self, total: int, stream: IO[str]) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.shown = total > PROGRESS_FROM and stream.isatty()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")

    def step(self) -> None:
        self.done += 1
        if self.shown:
            filled = 30 * self.done // self.total
            bar = "#" * filled + "." * (30 - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} files")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def _read(name: str) -> bytes:
    return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()


def _send(args: argparse.Namespace) -> int:
    from service.client import ProblemError, SandanClientError

    client = _client(args)
    if client is None:
        return 2
    settled = True
    progress = Progress(len(args.files), sys.stderr)
    with client:
        for name in args.files:
            try:
                body = _read(name)
                answer = client.post_message(body)
            except OSError as error:
                progress.clear()
                print(f"sandan send: {name}: {error.strerror or error}", file=sys.stderr)
                settled = False
            except ProblemError as error:
                progress.clear()
                print(f"sandan send: {name}: {error}", file=sys.stderr)
                settled = False
            except SandanClientError as error:  # no server: the other files would fail alike
                progress.clear()
                return _failed(args, error)
            else:
                progress.clear()
                for doc in answer["documents"]:
                    print(document_line(doc), flush=True)
                    settled = settled and doc["status"] in SETTLED
            progress.step()
    return 0 if settled else 1


# --- tail --------------------------------------------------------------------------------


def _tail(args: argparse.Namespace) -> int:
    from service.client import SandanClientError

    client = _client(args)
    if client is None:
        return 2
    feed: Feed = args.feed
    with client:
        items = (
            client.follow(feed, args.after, limit=args.limit, wait=args.wait)
            if args.follow
            else client.caught_up(feed, args.after, limit=args.limit)
        )
        try:
            for item in items:
                print(json.dumps(item, ensure_ascii=False, separators=(",", ":")), flush=True)
        except SandanClientError as error:
            return _failed(args, error)
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:  # the reader had enough (``| head``): a normal stop
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


# --- explain -----------------------------------------------------------------------------


def _side(side: dict[str, Any]) -> str:
    value = side.get("value")
    return f"{side.get('document')}.{side.get('field')} = {'-' if value is None else value}"


def explanation(bundle: dict[str, Any]) -> list[str]:
    """The bundle's key, state and regime, then each finding with both compared values."""
    regime = bundle.get("regime") or {}
    lines = [
        f"bundle   {bundle['ebpCode']} {bundle['orderNo']}"
        + (f"  invtNo {bundle['invtNo']}" if bundle.get("invtNo") else ""),
        f"state    {bundle['state']}",
        f"regime   {bundle.get('direction') or '-'} declared {regime.get('declared') or '-'}, "
        f"classified {regime.get('classified') or '-'}",
    ]
    present = list(bundle.get("documents") or {})
    lines.append(f"documents {', '.join(present) or '-'}")
    if bundle.get("missing"):
        lines.append(f"missing  {', '.join(bundle['missing'])}")
    findings = bundle.get("findings") or []
    lines.append(f"findings {len(findings) or 'none'}")
    for finding in findings:
        lines.append(f"  {finding['code']} ({finding['severity']}): {finding['message_en']}")
        lines.append(f"    {finding['message_zh']}")
        for compared in finding.get("fields", []):
            lines.append(f"    {_side(compared['left'])}  vs  {_side(compared['right'])}")
    return lines


def _explain(args: argparse.Namespace) -> int:
    from service.client import SandanClientError

    client = _client(args)
    if client is None:
        return 2
    with client:
        try:
            bundle = client.bundle(args.ebp, args.order)
        except SandanClientError as error:
            return _failed(args, error)
    for line in explanation(bundle):
        print(line)
    return 0


# --- the parser --------------------------------------------------------------------------


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("SANDAN_URL", DEFAULT_URL),
        help=f"the Sandan server (default SANDAN_URL, else {DEFAULT_URL})",
    )
    parser.add_argument(
        "--key", default=os.environ.get("SANDAN_KEY"), help="API key (default SANDAN_KEY)"
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _cursor(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_commands(sub: Any) -> None:
    """``send``, ``tail`` and ``explain`` on the ``sandan`` parser's subcommands."""
    send = sub.add_parser(
        "send",
        help="post CEB message files; one line per document; exit 1 unless all are accepted",
        description="Post each FILE (- for standard input) to POST /v1/messages and print one "
        "line per document: guid, kind, key, status, returnStatus, error codes. Exit 0 when "
        "every document is accepted or a duplicate, 1 otherwise (and on any HTTP error).",
    )
    _server_options(send)
    send.add_argument("files", nargs="+", metavar="FILE")
    send.set_defaults(run=lambda args, _settings: _send(args))

    tail = sub.add_parser(
        "tail",
        help="print the manifest or receipts feed as JSON lines",
        description="Print the feed's items after the cursor as JSON lines and exit once "
        "caught up; with --follow keep long-polling for new ones until interrupted.",
    )
    tail.add_argument("feed", choices=["manifest", "receipts"])
    _server_options(tail)
    tail.add_argument("--after", type=_cursor, default=0, help="start after this seq (0)")
    tail.add_argument("--limit", type=_positive, default=100, help="items a request (100)")
    tail.add_argument(
        "--wait",
        type=float,
        default=FOLLOW_WAIT,
        help=f"--follow: seconds each long poll waits ({FOLLOW_WAIT:g})",
    )
    tail.add_argument("--follow", action="store_true", help="keep following by long poll")
    tail.set_defaults(run=lambda args, _settings: _tail(args))

    explain = sub.add_parser(
        "explain",
        help="a bundle's state and regime and each finding with both compared values",
    )
    _server_options(explain)
    explain.add_argument("ebp", metavar="EBP", help="the bundle's ebpCode")
    explain.add_argument("order", metavar="ORDER", help="the bundle's orderNo")
    explain.set_defaults(run=lambda args, _settings: _explain(args))
