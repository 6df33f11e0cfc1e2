"""POST /v1/messages: customs XML in, one result per document out (SPEC §6.1)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from service.api.deps import BEARER, caller_of, get_services
from service.api.openapi import answers
from service.api.schemas.bundles import IngestAnswer
from service.clock import utcnow
from service.errors import MessageTooLarge, UnsupportedMediaType

router = APIRouter(tags=["ingest"])

_XML_TYPES = ("application/xml", "text/xml", "application/octet-stream", "")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` bytes (never buffered past it)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise MessageTooLarge(f"message is {declared} bytes, the limit is {limit}", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise MessageTooLarge(f"message exceeds the limit of {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/v1/messages",
    summary="Post one CEB message (1..100 documents)",
    description=(
        "A document that fails its schema, sender or signature check is `rejected` while "
        "the others proceed; `accepted` is said only once the document is committed. A "
        "message that is not well-formed, too large, forbidden or of an unknown type is "
        "refused whole. With `Accept: application/xml` the answer is the customs return "
        "message. The body's examples are messages the keys `sandan demo` prints may send."
    ),
    **answers(IngestAnswer, 400, 401, 403, 413, 415, 429, 503),
    # the caller is looked up without a dependency (below): its scheme is declared here
    openapi_extra={"security": [{BEARER.scheme_name: []}]},
)
async def post_message(request: Request) -> Response:
    # The caller and the services are looked up here rather than declared as dependencies:
    # FastAPI's dependency solving was a tenth of the CPU of a one-document message.
    services = await get_services(request)
    caller = await caller_of(request, services)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _XML_TYPES and not media.endswith("+xml"):
        raise UnsupportedMediaType(f"expected application/xml, got {media}")
    body = await _read_body(request, services.settings.max_message_bytes)
    result = await services.ingestor.ingest(body, caller)
    if "application/xml" in request.headers.get("accept", ""):
        return Response(result.to_receipt(utcnow()), media_type="application/xml")
    # orjson: the answer is built for every message, at thousands a second
    return Response(orjson.dumps(result.to_json()), media_type="application/json")
