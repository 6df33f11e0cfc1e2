"""Preparing large messages in worker processes.

Parsing, schema validation, extraction and masking (``engine.prepare``) are pure CPU. Done in
the server process they hold the GIL and the event loop that also runs the batcher's
database round trips, so every round trip of a batch waits behind them: measured, a batch
spent more time waiting for its turn on the loop than in the database. Worker processes take
that work; the server keeps HTTP, the batches and the decisions.

A worker is started with ``spawn`` (no copy of the server's threads or connections), builds
its own preparer, and returns a ``Prepared`` (or raises the same refusals) by pickling. If a
worker dies, the message in flight is prepared in the server process instead and a new pool
is started: nothing is refused for it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from service.engine.prepare import Prepared, Preparer, build_preparer
from service.security.certificates import RegisteredCertificate
from service.security.keys import Caller
from service.security.signature_policy import SignaturePolicy

log = logging.getLogger(__name__)

# The preparer of this process when it is a prepare worker.
_preparer: Preparer | None = None


def _start_worker(pii_key: str, max_message_bytes: int, policy: SignaturePolicy) -> None:
    global _preparer
    # Ctrl-C in a terminal reaches the whole process group: the server shuts the pool down
    # in order, a worker must not die of it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _preparer = build_preparer(pii_key, max_message_bytes, policy)


def _prepare(
    body: bytes,
    caller: Caller,
    certificates: tuple[RegisteredCertificate, ...],
    now: datetime | None,
) -> Prepared:
    if _preparer is None:
        raise RuntimeError("not a prepare worker")
    return _preparer.prepare(body, caller, certificates, now)


def _ready() -> bool:
    return _preparer is not None


class PreparePool:
    def __init__(
        self,
        workers: int,
        pii_key: str,
        max_message_bytes: int,
        signature_policy: SignaturePolicy = "registered",
    ) -> None:
        self.workers = workers
        self._args = (pii_key, max_message_bytes, signature_policy)
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=self._args,
        )

    async def start(self) -> None:
        """Start every worker now (schemas compiled), not on the first large message."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, _ready) for _ in range(self.workers))
        )

    async def stop(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, True, cancel_futures=True)

    async def prepare(
        self,
        body: bytes,
        caller: Caller,
        certificates: tuple[RegisteredCertificate, ...] = (),
        now: datetime | None = None,
    ) -> Prepared | None:
        """The prepared message, or None when the pool broke (a worker died): the caller then
        prepares it itself, and the next message goes to a new pool. ``certificates``: the
        caller's own (a few plain records), so they pickle cheaply."""
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(
                executor, _prepare, body, caller, certificates, now
            )
        except BrokenProcessPool:
            if self._executor is executor:
                log.error("a prepare worker died; starting a new pool")
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
            return None
