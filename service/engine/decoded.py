"""Typed documents rebuilt from the store, kept for the next time their bundle is judged.

A stored document never changes (a change is a new row), so its decoded form can be reused,
keyed by its id together with the database it came from and its content digest: two
databases in one process (as in the tests), or a database recreated under the same name,
cannot mix. A bundle is judged each time one of its documents arrives; without this, its
earlier documents would be decoded from JSON again every time. A document this process
stores is remembered as it is written, so its JSON is not even read back; a batch that rolls
back forgets what it remembered (SQLite may give the ids to other rows). Bounded: old entries
fall out first.
"""

from __future__ import annotations

from collections import OrderedDict

from service.messages.documents import Document

# Enough for the documents of bundles still being completed at a few thousand docs/s;
# a few KB each, so tens of MB at most.
_MAX_ENTRIES = 10_000
_cache: OrderedDict[tuple[str, int, str], Document] = OrderedDict()


def cached(database: str, doc_id: int, digest: str) -> Document | None:
    key = (database, doc_id, digest)
    doc = _cache.get(key)
    if doc is not None:
        _cache.move_to_end(key)
    return doc


Key = tuple[str, int, str]


def remember(database: str, doc_id: int, digest: str, doc: Document) -> Key:
    """Keep ``doc`` as the decoded form of stored row ``doc_id`` (its digest ``digest``)."""
    key = (database, doc_id, digest)
    _cache[key] = doc
    if len(_cache) > _MAX_ENTRIES:
        _cache.popitem(last=False)
    return key


def forget(keys: list[Key]) -> None:
    """Drop entries remembered in a transaction that then rolled back: SQLite may give
    their ids to other rows."""
    for key in keys:
        _cache.pop(key, None)
