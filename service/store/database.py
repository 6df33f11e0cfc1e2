"""Engines and transactions. The SQLite / PostgreSQL differences live here.

SQLite (embedded default) has one writer at a time. Write transactions start with
``BEGIN IMMEDIATE`` so two writers never both read under a shared lock and then fail to
upgrade it; readers use a separate engine with plain deferred transactions, which in WAL mode
run alongside the writer. On PostgreSQL both are the same engine.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from service.errors import ServiceUnavailable
from service.store import jsoncodec
from service.store.statements import count_statements


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _use_wal(cursor)
    # FULL: a commit that returned survives power loss, which is what "accepted" promises.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """WAL mode, which the file keeps once set. Only the first connections to a new file
    switch it, and SQLite answers a switch that meets another connection's lock with "database
    is locked" at once, without its busy handler: they try again, briefly (it happens at start,
    when the sweeper and the first request open the file together)."""
    for attempt in range(200):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, wrapped or not
            if "locked" not in str(exc) or attempt == 199:
                raise
            time.sleep(0.01)


def _sqlite_engine(url: str, begin: str) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=5 if begin == "BEGIN" else 1,
        max_overflow=10,
        json_serializer=jsoncodec.dumps,
        json_deserializer=jsoncodec.loads,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


# Every session runs without JIT compilation. PostgreSQL compiles a statement whose estimated
# cost passes jit_above_cost (100,000), and does so again at every execution of a prepared
# one; the batch's one read over a few hundred keys crosses that as soon as the tables grow
# or lack statistics, and then paid ~15 ms of compiling for 3 ms of work (measured, issue 13).
# Short OLTP statements, which are all this service sends, never gain from it.
SESSION_SETTINGS = {"jit": "off"}


def _postgres_engine(
    url: str,
    pool_size: int,
    pre_ping: bool,
    max_overflow: int = 10,
    server_settings: dict[str, str] | None = None,
    **options: Any,
) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        connect_args={"server_settings": {**SESSION_SETTINGS, **(server_settings or {})}},
        **options,
        json_serializer=jsoncodec.dumps,
        json_deserializer=jsoncodec.loads,
    )


class Database:
    """The application's handle on its database: a writer and a reader engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self.writer = _sqlite_engine(url, "BEGIN IMMEDIATE")
            self.reader = _sqlite_engine(url, "BEGIN")
        else:
            self.writer = _postgres_engine(url, pool_size=5, pre_ping=True)
            self.reader = _postgres_engine(url, pool_size=10, pre_ping=True)
        # Intake's batches go without a ping on checkout: SQLAlchemy's asyncpg ping is three
        # round trips (BEGIN, ping, ROLLBACK), as many as a third of a small batch's
        # statements. A connection found dead fails its batch before anything is written,
        # and intake runs it again on a new one (``is_retryable``). Every other writer keeps
        # the ping, and with it the old behaviour after a database restart.
        # Its reads are planned at every execution (``dialect.planned_now``, in the batch and
        # in decide).
        self.intake = (
            _postgres_engine(url, pool_size=2, pre_ping=False, max_overflow=2)
            if self.dialect != "sqlite"
            else self.writer
        )
        for engine in {self.writer, self.reader, self.intake}:
            count_statements(engine)  # statements per batch, for the bench's profile
        self._counters: AsyncEngine | None = None

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: commits when the block ends, rolls back on error."""
        with _unavailable_as_503():
            async with self.writer.begin() as conn:
                yield conn

    @asynccontextmanager
    async def write_batch(self) -> AsyncIterator[AsyncConnection]:
        """``write`` for intake's batches, on connections not pinged at checkout (see
        ``intake``): the caller runs a batch again when its connection was dead."""
        with _unavailable_as_503():
            async with self.intake.begin() as conn:
                yield conn

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A PostgreSQL connection on which each statement commits by itself: for counters
        (the rate limits) that must hold no lock past their one statement, nor wait for an
        intake batch. Not pinged at checkout, like ``intake``: a statement that finds its
        connection dead raises ``ServiceUnavailable`` from an invalidated ``DBAPIError``, and
        the caller may run it again. Its engine is made on first use, so a process that
        never counts holds no connection for it."""
        if self._counters is None:
            self._counters = _postgres_engine(
                self.url,
                pool_size=2,
                pre_ping=False,
                max_overflow=8,
                isolation_level="AUTOCOMMIT",
                # A counter's commit does not wait for its WAL flush (measured: 1.1-1.5 ms
                # a statement with it, most of it the flush). A crash can lose the last
                # few milliseconds of counts, which only leaves a bucket a little fuller;
                # nothing accepted depends on them.
                server_settings={"synchronous_commit": "off"},
            )
            count_statements(self._counters)
        with _unavailable_as_503():
            async with self._counters.connect() as conn:
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        with _unavailable_as_503():
            async with self.reader.connect() as conn:
                yield conn

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        for engine in {self.writer, self.reader, self.intake}:
            await engine.dispose()
        if self._counters is not None:
            await self._counters.dispose()


@contextmanager
def _unavailable_as_503() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if _is_unavailable(exc):
            raise ServiceUnavailable("database unavailable, retry later") from exc
        raise
    except (OSError, TimeoutError, PoolTimeout) as exc:
        # Connecting: asyncpg raises the socket's own error (ConnectionRefusedError, a DNS
        # failure, a connect timeout) unwrapped; a pool whose connections are all stuck in a
        # dead network times out. Either way the database is out of reach, not our SQL wrong.
        raise ServiceUnavailable("database unavailable, retry later") from exc


def is_unavailable(exc: BaseException) -> bool:
    """``exc`` says the database is out of reach (see ``_unavailable_as_503``)."""
    if isinstance(exc, DBAPIError):
        return _is_unavailable(exc)
    return isinstance(exc, (OSError, TimeoutError, PoolTimeout))


def _is_unavailable(exc: DBAPIError) -> bool:
    """Connection-level failures (server down, network) as opposed to bugs in our SQL."""
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


# SQLSTATEs of a transaction that lost a race with another one: run it again.
_CONTENTION = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "23505",  # unique_violation: the same document or bundle committed first elsewhere
}


def is_retryable(exc: DBAPIError) -> bool:
    """Worth running the whole transaction again: it lost a race, or its connection was
    dead (the intake pool does not ping). The caller must not retry a transaction whose
    COMMIT failed this way: it may have committed."""
    return is_contention(exc) or bool(exc.connection_invalidated)


def is_contention(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _CONTENTION:
        return True
    # SQLite: a unique violation from a concurrent writer is impossible (one writer), but a
    # busy database past busy_timeout is worth another try.
    return "database is locked" in str(exc.orig)
