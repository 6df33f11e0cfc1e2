"""Group commit: many requests' documents in one transaction.

One transaction per document tops out around 1.7 k docs/s on PostgreSQL; a few hundred per
transaction reaches tens of thousands. Requests hand their documents to the batcher and wait;
the batcher closes a batch at ``intake_batch_max_documents`` or after
``intake_batch_interval_ms``, applies it, decides the touched bundles, commits, and only then
resolves every waiting request: "accepted" always means committed. Each document's receipt
in the receipts feed (``engine.receipts``) is issued in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError

from service.config import Settings
from service.engine import decoded
from service.engine.apply import BatchState, apply_document, meeting_points
from service.engine.decide import Decided, decide_many
from service.engine.incoming import IncomingDocument, Outcome
from service.engine.lifecycle_writes import Windows
from service.engine.receipts import IntakeReceipts
from service.errors import ServiceUnavailable
from service.metrics import BATCH_DOCUMENTS, BATCH_PHASE_SECONDS, BATCH_SECONDS
from service.store import bundles
from service.store.database import Database, is_retryable
from service.store.dialect import advisory_locks, planned_now
from service.tasks import cancel

log = logging.getLogger(__name__)
# Attempts at one batch when concurrent workers collide before it is split up or refused.
_RETRIES = 5


@dataclass(slots=True)
class _Submission:
    sender: str
    items: list[IncomingDocument]
    receipts: IntakeReceipts | None = None
    future: asyncio.Future[list[Outcome]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class IntakeBatcher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        on_commit: Callable[[list[Decided]], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_receipts: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._on_commit = on_commit
        # after a commit that issued intake receipts (the receipt feed's long polls)
        self._on_receipts = on_receipts
        self._clock = clock
        self._queue: asyncio.Queue[_Submission] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sandan-intake")

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        await cancel(self._task)
        self._task = None

    async def submit(
        self,
        sender: str,
        items: list[IncomingDocument],
        *,
        receipts: IntakeReceipts | None = None,
    ) -> list[Outcome]:
        """The outcome of each of ``items``, once committed. ``receipts``: the message's
        receipts for the feed, issued in the same transaction; a message whose documents were
        all refused before the batch comes for its receipts alone."""
        if not items and receipts is None:
            return []
        if self._task is None or self._task.done():
            raise ServiceUnavailable("intake is not running")
        if self._queue.qsize() >= self._settings.intake_queue_limit:
            raise ServiceUnavailable("intake queue is full, retry later")
        submission = _Submission(sender, items, receipts)
        await self._queue.put(submission)
        return await submission.future

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self._settings.batches_in_flight)
        in_flight: set[asyncio.Task[None]] = set()
        while True:
            # A batch is gathered once a slot is free, so it takes in everything that
            # arrived while the others were committing. Even with one slot (the default),
            # committing in a task of its own measured faster than committing inline here:
            # 736 against 612 docs/s, mean of 5 and 6 runs of one-document messages from 64
            # senders (runs spread 460-804); why is not pinned down.
            await slots.acquire()
            batch = await self._gather()
            task = asyncio.create_task(self._commit_batch(batch, slots))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

    async def _commit_batch(self, batch: list[_Submission], slots: asyncio.Semaphore) -> None:
        try:
            await self._commit(batch)
        finally:
            slots.release()
            for _ in batch:
                self._queue.task_done()

    async def _gather(self) -> list[_Submission]:
        """The next batch: what is queued, up to the size limit or the interval."""
        batch = [await self._queue.get()]
        size = len(batch[0].items)
        loop = asyncio.get_running_loop()
        closes_at = loop.time() + self._settings.intake_batch_interval_ms / 1000
        while size < self._settings.intake_batch_max_documents:
            # Everything already queued joins without a wait: each wait lets the event loop
            # run other requests first, and on a busy loop the interval would be over after
            # a handful, leaving the rest queued for the next batch.
            try:
                nxt = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = closes_at - loop.time()
                if remaining <= 0:
                    break
                try:
                    nxt = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            batch.append(nxt)
            size += len(nxt.items)
        return batch

    async def _commit(self, batch: list[_Submission]) -> None:
        started = time.perf_counter()
        try:
            results, decided = await self._apply_with_retries(batch)
        except Exception as exc:
            if len(batch) > 1:
                # One bad request must not fail its neighbours: retry each on its own.
                for submission in batch:
                    await self._commit([submission])
                return
            log.exception("intake transaction failed") if not isinstance(
                exc, ServiceUnavailable
            ) else log.warning("intake: %s", exc)
            if not batch[0].future.done():
                batch[0].future.set_exception(
                    exc
                    if isinstance(exc, ServiceUnavailable)
                    else ServiceUnavailable("could not store the message, retry later")
                )
            return
        BATCH_SECONDS.observe(time.perf_counter() - started)
        BATCH_DOCUMENTS.observe(sum(len(sub.items) for sub in batch))
        for decision in decided:
            decision.count()
        for submission, outcome in zip(batch, results, strict=True):
            if not submission.future.done():
                submission.future.set_result(outcome)
        if self._on_commit is not None:
            self._on_commit(decided)
        if self._on_receipts is not None and any(sub.receipts is not None for sub in batch):
            self._on_receipts()

    async def _apply_with_retries(
        self, batch: list[_Submission]
    ) -> tuple[list[list[Outcome]], list[Decided]]:
        """Apply, again from the start when another process got in the way (a deadlock, or
        the same document committed by another worker first: the retry sees its work), or
        the connection turned out dead."""
        for attempt in range(_RETRIES):
            try:
                return await self._apply(batch)
            except (DBAPIError, ServiceUnavailable) as exc:
                # a dead connection reaches here as ServiceUnavailable (store/database.py)
                cause = exc if isinstance(exc, DBAPIError) else exc.__cause__
                if attempt == _RETRIES - 1 or not (
                    isinstance(cause, DBAPIError) and is_retryable(cause)
                ):
                    raise
                await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    async def _apply(self, batch: list[_Submission]) -> tuple[list[list[Outcome]], list[Decided]]:
        now = self._clock()
        settings = self._settings
        state = BatchState(
            now,
            timedelta(seconds=settings.bundle_deadline_seconds),
            windows=Windows(
                settings.cancel_window_days,
                settings.return_window_days,
                settings.export_return_window_days,
            ),
        )
        results: list[list[Outcome]] = []
        phase = _PhaseTimer()
        committing = False
        try:
            async with self._db.write_batch() as conn:
                phase("begin")
                # Every bundle this batch names, created and locked up front in key order, so
                # that concurrent batches in other processes queue instead of deadlocking.
                incoming = [inc for sub in batch for inc in sub.items]
                await advisory_locks(conn, (p for inc in incoming for p in meeting_points(inc)))
                phase("lock")
                async with planned_now(conn):
                    await state.prepare(
                        conn, incoming, [sub.sender for sub in batch for _ in sub.items]
                    )
                phase("read")
                for submission in batch:
                    results.append(
                        [
                            await apply_document(conn, submission.sender, inc, state)
                            for inc in submission.items
                        ]
                    )
                phase("apply")
                await state.flush_documents(conn)
                changes, history = state.take_bundle_writes()
                await bundles.drop_untouched(conn, state.untouched())
                phase("write")
                issued = [
                    row
                    for sub, outcomes in zip(batch, results, strict=True)
                    if sub.receipts is not None
                    for row in sub.receipts.rows(sub.sender, outcomes, now)
                ]
                # The bundles' own changes and the receipts are written with the decisions,
                # in one go.
                decided = await decide_many(
                    conn,
                    state.dirty,
                    now,
                    self._settings,
                    held=state.by_id,
                    changes=changes,
                    history=history,
                    lifecycle=state.lifecycle,
                    receipts=issued,
                )
                phase("decide")
                committing = True
        except BaseException as exc:
            decoded.forget(state.remembered)
            if committing and isinstance(exc, DBAPIError | ServiceUnavailable):
                # The connection failed during COMMIT, which may have landed: running the
                # batch again would answer "duplicate" to a first send. The sender retries
                # and is told "duplicate" only if it did.
                raise ServiceUnavailable("the commit's outcome is unknown, retry") from None
            raise
        phase("commit")
        return results, decided


class _PhaseTimer:
    """Adds the time since the previous call to the named phase (``BATCH_PHASE_SECONDS``)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        BATCH_PHASE_SECONDS.labels(name).inc(now - self._last)
        self._last = now
