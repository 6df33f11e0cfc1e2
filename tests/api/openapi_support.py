"""Reading Sandan's OpenAPI document: its operations, and an answer checked against one."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jsonschema

from service.app import create_app
from service.config import Settings

Operation = tuple[str, str, dict[str, Any]]


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The document the app serves at /openapi.json (built without starting it)."""
    return create_app(Settings()).openapi()


def operations(doc: dict[str, Any] | None = None) -> Iterator[Operation]:
    """(METHOD, path, operation) of every route in the document."""
    for path, methods in (doc or document())["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def json_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """The documented JSON schema of one answer, its references resolvable."""
    doc = document()
    response = doc["paths"][path][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


def check_answer(method: str, path: str, status: int, body: Any) -> None:
    """Fail unless ``body`` is what the document says ``method path`` answers with ``status``."""
    schema = json_schema(method, path, status)
    jsonschema.Draft202012Validator(schema).validate(body)
