"""Typed documents rebuilt from the store, kept for the next time their bundle is judged.

A stored document never changes (a change is a new row), so its decoded form can be reused,
keyed by its id together with the database it came from and its content digest: two
databases in one process (as in the tests), or a database recreated under the same name,
cannot mix. A bundle is judged each time one of its documents arrives; without this, its
earlier documents would be decoded from JSON again every time. Bounded: old entries fall
out first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from service.messages.documents import Document, document_from_json
from service.messages.registry import Kind

# Enough for the documents of bundles still being completed at a few thousand docs/s;
# a few KB each, so tens of MB at most.
_MAX_ENTRIES = 10_000
_cache: OrderedDict[tuple[str, int, str], Document] = OrderedDict()


def decoded(database: str, row: dict[str, Any]) -> Document:
    """The typed document of a ``documents`` row (id, kind, digest, data) of ``database``."""
    key = (database, int(row["id"]), str(row["digest"]))
    doc = _cache.get(key)
    if doc is not None:
        _cache.move_to_end(key)
        return doc
    doc = document_from_json(Kind(row["kind"]), row["data"])
    _cache[key] = doc
    if len(_cache) > _MAX_ENTRIES:
        _cache.popitem(last=False)
    return doc
