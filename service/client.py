"""A typed HTTP client for Sandan, for the systems that integrate with it (SPEC §6, §10).

It knows only the HTTP contract and imports nothing else of Sandan's: copy this one file into
an ERP or a warehouse system that has ``httpx`` (0.28). The ``sandan send``, ``sandan tail`` and
``sandan explain`` commands are built on it.

    from service.client import SandanClient, ProblemError

    with SandanClient("http://127.0.0.1:8000", key="sk_...") as sandan:
        answer = sandan.post_message(Path("CEB311Message.xml").read_bytes())
        for document in answer["documents"]:
            print(document["guid"], document["status"], document["returnStatus"])
        for entry in sandan.follow("manifest", after=0):  # long poll, forever
            print(entry["seq"], entry["decision"], entry["orderNo"])

Errors, one tree:

    SandanClientError
     ├── ServerUnreachable      no answer: connection refused, timeout, DNS
     └── ProblemError           an answer with a problem body {"code", "message", ...}
          ├── Unauthenticated   401  missing, unknown, revoked or expired key
          ├── Forbidden         403  the key lacks the role
          ├── NotFound          404  no such bundle, or not one the key may see
          ├── RateLimited       429  ``retry_after`` seconds
          └── Unavailable       503  the database or broker is down; retry
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any, Literal, TypedDict, cast
from urllib.parse import quote

import httpx

Feed = Literal["manifest", "receipts"]
# What each feed's page calls its list.
FEED_ITEMS: dict[Feed, str] = {"manifest": "entries", "receipts": "receipts"}
# Seconds a long poll asks the server to hold the call (servers cap it, default 60).
FOLLOW_WAIT = 25.0


class SandanClientError(Exception):
    """Anything that kept a call from getting its answer."""


class ServerUnreachable(SandanClientError):
    """No HTTP answer at all from ``url``."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"no Sandan server answers at {url}: {reason}")
        self.url = url
        self.reason = reason


class ProblemError(SandanClientError):
    """The server answered with an error status and its problem body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        self.code = str(body.get("code", "HTTP_ERROR"))
        self.message = str(body.get("message", ""))
        super().__init__(f"{status} {self.code}: {self.message}")


class Unauthenticated(ProblemError):
    pass


class Forbidden(ProblemError):
    pass


class NotFound(ProblemError):
    pass


class RateLimited(ProblemError):
    def __init__(self, status: int, body: dict[str, Any], retry_after: float) -> None:
        super().__init__(status, body)
        self.retry_after = retry_after


class Unavailable(ProblemError):
    pass


_BY_STATUS: dict[int, type[ProblemError]] = {
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    503: Unavailable,
}


class DocumentError(TypedDict, total=False):
    code: str
    path: str
    message: str


class DocumentResult(TypedDict):
    """One document's answer in ``POST /v1/messages`` (SPEC §6.1)."""

    guid: str
    kind: str
    key: dict[str, str]
    status: Literal["accepted", "duplicate", "rejected"]
    returnStatus: str
    errors: list[DocumentError]


class MessageResult(TypedDict):
    message: dict[str, str]
    documents: list[DocumentResult]


class ManifestEntry(TypedDict, total=False):
    """A decision on the manifest queue (SPEC §6.3, §10)."""

    seq: int
    ebpCode: str
    orderNo: str
    logisticsCode: str | None
    logisticsNo: str | None
    invtNo: str | None
    regime: str | None
    decision: str
    rules: list[str]
    decidedAt: str
    by: str


class Receipt(TypedDict):
    """A receipt of the caller's receipt feed (SPEC §10)."""

    seq: int
    messageType: str
    guid: str
    invtNo: str | None
    returnStatus: str
    returnTime: str
    returnInfo: str


def _problem(response: httpx.Response) -> ProblemError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"code": "HTTP_ERROR", "message": response.text[:200] or response.reason_phrase}
    if response.status_code == 429:
        retry_after = float(response.headers.get("Retry-After", "1"))
        return RateLimited(response.status_code, body, retry_after)
    return _BY_STATUS.get(response.status_code, ProblemError)(response.status_code, body)


class SandanClient:
    """One Sandan server, one API key. Use it as a context manager, or ``close()`` it."""

    def __init__(self, url: str, key: str | None, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)

    def __enter__(self) -> SandanClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **options: Any) -> Any:
        try:
            response = self._http.request(method, path, **options)
        except httpx.TransportError as error:
            raise ServerUnreachable(self.url, str(error) or type(error).__name__) from error
        if response.status_code >= 400:
            raise _problem(response)
        return response.json()

    def post_message(self, body: bytes) -> MessageResult:
        """``POST /v1/messages``: one CEB message (1..100 documents), one result per document.

        A message refused whole (malformed, forbidden, too large, unknown type) raises
        ``ProblemError`` with its code (``XML_MALFORMED``, ``MESSAGE_TYPE_UNKNOWN``, ...);
        a rejected document is an answer, not an error: look at its ``status``."""
        return cast(
            MessageResult,
            self._call(
                "POST", "/v1/messages", content=body, headers={"Content-Type": "application/xml"}
            ),
        )

    def page(
        self, feed: Feed, after: int = 0, *, limit: int = 100, wait: float = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of ``manifest`` entries or ``receipts`` with seq > ``after``, and the
        cursor to pass next. With ``wait`` the server holds the call until one exists or the
        wait ends (long poll)."""
        timeout = httpx.Timeout(self._timeout + wait)
        body = self._call(
            "GET",
            f"/v1/{feed}",
            params={"after": after, "limit": limit, "wait": wait},
            timeout=timeout,
        )
        items: list[dict[str, Any]] = body[FEED_ITEMS[feed]]
        return items, int(body["next"])

    def manifest(
        self, after: int = 0, *, limit: int = 100, wait: float = 0
    ) -> tuple[list[ManifestEntry], int]:
        """``GET /v1/manifest``: decisions the key may see, after the cursor."""
        entries, nxt = self.page("manifest", after, limit=limit, wait=wait)
        return cast(list[ManifestEntry], entries), nxt

    def receipts(
        self, after: int = 0, *, limit: int = 100, wait: float = 0
    ) -> tuple[list[Receipt], int]:
        """``GET /v1/receipts``: receipts issued to the key's enterprise codes."""
        receipts, nxt = self.page("receipts", after, limit=limit, wait=wait)
        return cast(list[Receipt], receipts), nxt

    def caught_up(
        self, feed: Feed, after: int = 0, *, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every item after the cursor, page by page, until a page comes back empty."""
        while True:
            items, after = self.page(feed, after, limit=limit)
            if not items:
                return
            yield from items

    def follow(
        self, feed: Feed, after: int = 0, *, limit: int = 100, wait: float = FOLLOW_WAIT
    ) -> Iterator[dict[str, Any]]:
        """Every item after the cursor and then each new one as it comes, by long poll;
        never ends. Delivery is at-least-once in seq order: keep the last seq you handled
        and pass it as ``after`` when you start again."""
        while True:
            items, after = self.page(feed, after, limit=limit, wait=wait)
            yield from items

    def bundle(self, ebp_code: str, order_no: str) -> dict[str, Any]:
        """``GET /v1/bundles/{ebpCode}/{orderNo}`` (SPEC §6.2): state, regime, documents,
        findings with both compared values, decisions, history. ``NotFound`` when there is
        no such bundle or the key may not see it."""
        path = f"/v1/bundles/{quote(ebp_code, safe='')}/{quote(order_no, safe='')}"
        bundle: dict[str, Any] = self._call("GET", path)
        return bundle

    def healthy(self) -> bool:
        """Whether the server answers ``GET /healthz`` (the process is up)."""
        try:
            return self._http.get("/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False
