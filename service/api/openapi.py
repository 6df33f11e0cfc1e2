"""The OpenAPI document and the pages that show it (/docs, /redoc), working offline.

Routes declare their answers with ``answers(Model, 401, 404, ...)``: the JSON model of the
success answer (with its example) and the problems a caller can get, each with its code. The
document then gains what FastAPI cannot infer: every 422 as Sandan's problem body, the XML
request body and answers of POST /v1/messages, and no leftover schema of the dictionaries
the routers return. The bearer scheme (an Authorize button in /docs) comes with
``deps.get_caller``.

Swagger UI's and ReDoc's scripts come from the installed ``fastapi-offline`` package (FastAPI's
self-hosting recipe; the Swagger page is ``docs_page``'s): a customs site's network has no
public CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from service.api.docs_page import swagger_page
from service.api.schemas.common import Problem

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"
# FastAPI's default favicon is on its public site: an empty one instead.
NO_FAVICON = "data:,"
REDOC_IMAGES = "img-src 'self' data:"
# Status -> (what it means, an example problem).
PROBLEMS: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "Refused whole: not well-formed, forbidden XML (DTD, entities), or empty",
        {"code": "XML_MALFORMED", "message": "not well-formed: line 3, column 7"},
    ),
    401: (
        "Missing, unknown, revoked or expired API key",
        {"code": "UNAUTHENTICATED", "message": "missing bearer API key"},
    ),
    403: (
        "The key lacks the role, or does not act for the enterprise",
        {"code": "FORBIDDEN", "message": "the operator role is required"},
    ),
    404: (
        "Absent, or not the caller's to see (the same answer)",
        {"code": "NOT_FOUND", "message": "no bundle 3301960001/SD2026111100000001"},
    ),
    409: (
        "The bundle changed since the version given, or the action does not apply",
        {"code": "VERSION_CONFLICT", "message": "bundle is at version 4, not 3"},
    ),
    413: (
        "The message is larger than the limit (SANDAN_MAX_MESSAGE_BYTES)",
        {"code": "MESSAGE_TOO_LARGE", "message": "message is 12000000 bytes", "limit": 10485760},
    ),
    415: (
        "Not XML, or a message type Sandan does not take",
        {"code": "MESSAGE_TYPE_UNKNOWN", "message": "unsupported message CEB999Message"},
    ),
    422: (
        "Invalid parameters or body",
        {
            "code": "INVALID_REQUEST",
            "message": "invalid request",
            "errors": [{"path": "query/limit", "message": "Input should be >= 1"}],
        },
    ),
    429: (
        "Over the key's documents per second (Retry-After says when to try again)",
        {"code": "RATE_LIMITED", "message": "over 50 documents a second", "retryAfter": 1},
    ),
    503: (
        "Database unavailable or intake queue full; retry (Retry-After)",
        {"code": "UNAVAILABLE", "message": "database unavailable, retry later"},
    ),
}


# Every model ``answers`` documented, by name (the component names FastAPI gives them).
_DOCUMENTED: dict[str, type[BaseModel]] = {}


def _register(model: type[BaseModel]) -> None:
    """``model`` and the models its fields hold, at any depth."""
    if _DOCUMENTED.get(model.__name__) is model:
        return
    _DOCUMENTED[model.__name__] = model
    pending = [f.annotation for f in model.model_fields.values()]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _register(annotation)
        else:
            pending.extend(get_args(annotation))


def model_example(model: type[BaseModel]) -> Any:
    """The first example a model's config carries."""
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if not examples or not isinstance(examples, list):
        raise ValueError(f"{model.__name__} has no example (use schemas.common.example)")
    return examples[0]


def problem_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entries of these error statuses: the problem body, an example."""
    out: dict[int | str, dict[str, Any]] = {}
    _register(Problem)
    for code in statuses:
        text, example = PROBLEMS[code]
        out[code] = {
            "model": Problem,
            "description": text,
            "content": {"application/json": {"example": example}},
        }
    return out


def answers(
    model: type[BaseModel] | None,
    *problems: int,
    status: int = 200,
    description: str = "OK",
    media: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for a route decorator: ``model`` is the JSON answer (None for a
    route that answers no JSON), ``media`` the success answer's other content types (media
    type -> its ``schema`` and ``example``: the CEB792 of a summary, a CSV), ``problems``
    the error statuses it can answer. The answer is documented, not re-validated: the
    routers' dictionaries are sent as they are built (orjson on the hot paths)."""
    responses: dict[int | str, dict[str, Any]] = {}
    content: dict[str, Any] = {}
    if model is not None:
        _register(model)
        content["application/json"] = {"example": model_example(model)}
    content.update(media or {})
    if content:
        responses[status] = {"description": description, "content": content}
    if model is not None:
        responses[status]["model"] = model
    responses.update(problem_answers(*problems))
    kwargs: dict[str, Any] = {"responses": responses}
    if model is not None:
        kwargs["response_model"] = None
        kwargs["status_code"] = status
    return kwargs


def _strip_ref_siblings(node: Any) -> None:
    """``{"$ref": ..., "type": "object", "title": ...}`` -> ``{"$ref": ...}``: the leftovers of
    the ``dict[str, Any]`` a router is annotated with, beside the documented model."""
    if isinstance(node, dict):
        if "$ref" in node:
            for key in [k for k in node if k not in ("$ref", "description")]:
                del node[key]
        for value in node.values():
            _strip_ref_siblings(value)
    elif isinstance(node, list):
        for value in node:
            _strip_ref_siblings(value)


def _restore_examples(document: dict[str, Any]) -> None:
    """FastAPI writes the document without its None values, the examples' nulls among them
    (``"invtNo": null`` would vanish from an example): put the models' own examples back."""
    schemas = document.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        model = _DOCUMENTED.get(name)
        if model is not None and "examples" in schema:
            schema["examples"] = [model_example(model)]
    for operations in document["paths"].values():
        for operation in operations.values():
            for response in operation["responses"].values():
                media = response.get("content", {}).get("application/json", {})
                name = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                if "example" in media and name in _DOCUMENTED and name != "Problem":
                    media["example"] = model_example(_DOCUMENTED[name])


def _problem_422(paths: dict[str, Any]) -> None:
    """FastAPI documents its own validation error shape for every route with parameters;
    Sandan answers them as its problem body (service/api/problems.py)."""
    text, example = PROBLEMS[422]
    for operations in paths.values():
        for operation in operations.values():
            if "422" in operation["responses"]:
                operation["responses"]["422"] = {
                    "description": text,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Problem"},
                            "example": example,
                        }
                    },
                }


def _document_ingest(operation: dict[str, Any]) -> None:
    from service.api.xml_examples import openapi_examples  # the demo's composer: only here

    requests, receipts = openapi_examples()
    operation["requestBody"] = {
        "required": True,
        "description": "One CEB message (1..100 documents) as customs defines it; "
        "text/xml and application/octet-stream are taken too.",
        "content": {
            "application/xml": {
                "schema": {"type": "string", "description": "the XML message"},
                "examples": requests,
            }
        },
    }
    ok = operation["responses"]["200"]
    ok["description"] = (
        "One result per document (JSON), or with `Accept: application/xml` the matching CEB "
        "return message (CEB312, CEB412, CEB512, CEB622, CEB304, CEB404, CEB506, CEB604...)"
    )
    ok["content"]["application/xml"] = {
        "schema": {"type": "string"},
        "examples": receipts,
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    _strip_ref_siblings(document["paths"])
    _restore_examples(document)
    _problem_422(document["paths"])
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _document_ingest(document["paths"]["/v1/messages"]["post"])
    app.openapi_schema = document
    return document


def install(app: FastAPI) -> None:
    """The OpenAPI document with the above, /docs and /redoc with their assets local.
    The app must be created with ``docs_url=None, redoc_url=None``."""
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(swagger_page(f"{app.title} API", root + openapi_url, root + ASSETS_URL))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=NO_FAVICON,
            with_google_fonts=False,
        )
        # ReDoc's sidebar always shows its maker's logo from their CDN: images from here only
        page.headers["Content-Security-Policy"] = REDOC_IMAGES
        return page
