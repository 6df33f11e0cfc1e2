"""From a posted message to one answer per document: prepared (``engine.prepare``, in a
worker process when the message is large enough to be worth it), then stored and decided
by the batcher."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.clock import utcnow
from service.engine.incoming import Outcome
from service.engine.intake import IntakeBatcher
from service.engine.prepare import DocumentResult, Prepared, Preparer
from service.engine.prepare_pool import PreparePool
from service.engine.receipts import IntakeReceipts
from service.engine.receipts import return_info as _return_info
from service.messages.receipts import ReceiptItem, build_receipt, format_return_time
from service.messages.registry import MessageType
from service.metrics import DOCUMENTS, PREPARE_SECONDS, PREPARED_DOCUMENTS
from service.security.certificates import RegisteredCertificate
from service.security.keys import Caller
from service.security.limits import RateLimiter, admit


@dataclass(slots=True)
class IngestResult:
    message_guid: str
    message_type: MessageType
    documents: list[DocumentResult]

    def to_receipt(self, now: datetime) -> bytes:
        """The customs return message (CEB312/412/512/622) answering this message."""
        items = [
            ReceiptItem(
                d.guid,
                _numbered(d.receipt_fields, d.outcome),
                d.outcome.return_status,
                _return_info(d.outcome),
            )
            for d in self.documents
        ]
        return build_receipt(self.message_type, items, format_return_time(now))

    def to_json(self) -> dict[str, Any]:
        return {
            "message": {"guid": self.message_guid, "type": self.message_type.root},
            "documents": [
                {
                    "guid": d.guid,
                    "kind": d.kind,
                    "key": _numbered(d.key, d.outcome),
                    "status": d.outcome.status,
                    "returnStatus": d.outcome.return_status,
                    "errors": d.outcome.errors,
                }
                for d in self.documents
            ],
        }


def _numbered(fields: dict[str, str], outcome: Outcome) -> dict[str, str]:
    """``fields`` with the number Sandan gave the document's consignment or summary."""
    if outcome.invt_no:
        return {**fields, "invtNo": outcome.invt_no}
    if outcome.sum_no:
        return {**fields, "sumNo": outcome.sum_no}
    return fields


class CertificateSource(Protocol):
    async def for_codes(self, codes: Iterable[str]) -> tuple[RegisteredCertificate, ...]: ...


class Ingestor:
    def __init__(
        self,
        preparer: Preparer,
        batcher: IntakeBatcher,
        pool: PreparePool | None,
        offload_bytes: int,
        certificates: CertificateSource | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._preparer = preparer
        self._batcher = batcher
        self._pool = pool
        # None when signatures are not checked (policy "off"): no lookup per message.
        self._certificates = certificates
        # Above this size, preparing a message leaves the event loop: to a worker process
        # when there is a pool, else to a thread. Below it, the hand-off costs more than it
        # frees.
        self._offload_bytes = offload_bytes
        # Documents per second per key (SPEC §11); None: no limit, and no statement for it.
        self._limiter = limiter

    async def _prepare(self, body: bytes, caller: Caller) -> Prepared:
        # The sender's certificates as they stand at receipt (SPEC §11: validity is checked
        # at the time of receipt), from the process's book, refreshed every few seconds.
        now = utcnow()
        certificates = (
            await self._certificates.for_codes(caller.codes)
            if self._certificates is not None
            else ()
        )
        if len(body) <= self._offload_bytes:
            return self._preparer.prepare(body, caller, certificates, now)
        if self._pool is not None:
            prepared = await self._pool.prepare(body, caller, certificates, now)
            if prepared is not None:
                return prepared
        return await asyncio.to_thread(self._preparer.prepare, body, caller, certificates, now)

    async def ingest(self, body: bytes, caller: Caller) -> IngestResult:
        started = time.perf_counter()
        prepared = await self._prepare(body, caller)
        PREPARE_SECONDS.inc(time.perf_counter() - started)
        PREPARED_DOCUMENTS.inc(len(prepared.results))
        if self._limiter is not None:
            # Every document of the message counts, before any is stored (security/limits.py).
            await admit(self._limiter, caller.key_id, len(prepared.results))
        order = sorted(prepared.incoming)
        outcomes = await self._batcher.submit(
            caller.code,
            [prepared.incoming[i] for i in order],
            # the feed's receipt of every document, those refused already included
            receipts=IntakeReceipts(prepared.message_type, prepared.results, order),
        )
        for index, outcome in zip(order, outcomes, strict=True):
            prepared.results[index].outcome = outcome
        for result in prepared.results:
            code = result.outcome.errors[0]["code"] if result.outcome.errors else ""
            DOCUMENTS.labels(result.kind, result.outcome.status, code).inc()
        return IngestResult(prepared.message_guid, prepared.message_type, prepared.results)
