"""Counting the SQL statements an engine sends, for the benchmark's per-batch profile.

Two figures: every statement executed (``sandan_db_statements_total``) and how many distinct
statement texts were seen (``sandan_db_statement_texts``). The second says whether
statements are reused (a fixed set of texts, cached by SQLAlchemy and prepared once by
asyncpg) or built afresh per batch (a text per batch size, each compiled and prepared anew).
Texts are kept as hashes, never as SQL: a process must not hold a growing copy of its queries.
"""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from service.metrics import REGISTRY

STATEMENTS = Counter(
    "sandan_db_statements", "SQL statements sent to the database", registry=REGISTRY
)
# Worker processes send the same texts: with several, the largest set any one has seen is the
# figure that says "reused or not"; a sum would count each text once per worker.
STATEMENT_TEXTS = Gauge(
    "sandan_db_statement_texts",
    "Distinct SQL statement texts sent since the process started (the most of any worker)",
    registry=REGISTRY,
    multiprocess_mode="max",
)
# Past this many texts stop remembering new ones: the gauge then says "at least", and a
# process building unbounded distinct SQL cannot grow this set without limit.
MAX_TEXTS = 100_000

_texts: set[int] = set()
_lock = threading.Lock()  # the sync engine's events may fire from worker threads


def _before_cursor_execute(
    _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    _note(statement)


def count_statement(statement: str) -> None:
    """Count a statement sent past SQLAlchemy's events (store/pg.py sends the intake path's
    straight to asyncpg)."""
    _note(statement)


def _note(statement: str) -> None:
    STATEMENTS.inc()
    digest = hash(statement)
    if digest in _texts or len(_texts) >= MAX_TEXTS:
        return
    with _lock:
        _texts.add(digest)
        STATEMENT_TEXTS.set(len(_texts))


def count_statements(engine: AsyncEngine) -> AsyncEngine:
    """Count ``engine``'s statements from now on; the engine itself, for chaining."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", _before_cursor_execute):
        event.listen(engine.sync_engine, "before_cursor_execute", _before_cursor_execute)
    return engine
