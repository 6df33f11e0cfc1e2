"""The audit log's hash chain (SPEC §11): what a record's hash covers, and checking a run.

A record's hash is ``sha256(prev_hash + canonical)`` in lower-case hex, where ``canonical``
is the UTF-8 JSON of ``{"id", "at", "actor", "action", "subject", "detail"}`` with sorted
keys, no spaces, non-ASCII characters as themselves, and ``at`` in UTC with microseconds
(``2026-12-02T17:50:00.000000Z``). The first record's ``prev_hash`` is 64 zeros. Ids are
consecutive from 1, and the id is hashed, so a record removed, changed or moved to another
place breaks the chain at the first record after it. Only the tail can go unnoticed: compare
the count and the last hash ``sandan audit verify`` prints with ones noted earlier.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.clock import as_utc

GENESIS = "0" * 64


def canonical_time(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(record: dict[str, Any]) -> bytes:
    body = {
        "id": int(record["id"]),
        "at": canonical_time(record["at"]),
        "actor": record["actor"],
        "action": record["action"],
        "subject": record["subject"],
        "detail": record["detail"],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(prev_hash: str, record: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(record)).hexdigest()


def as_stored(detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` as it reads back from the JSON column: what the hash must cover. Refuses
    what JSON cannot hold exactly (a datetime, a Decimal), rather than hashing its repr."""
    stored: dict[str, Any] = json.loads(json.dumps(detail, allow_nan=False))
    return stored


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The outcome of checking the chain: ``broken_at`` is None when every record holds."""

    count: int
    last_hash: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def check(records: AsyncIterable[dict[str, Any]]) -> ChainCheck:
    """Walk ``records`` in id order; stop at the first that does not match."""
    count, prev_hash, prev_id = 0, GENESIS, 0
    async for record in records:
        rid = int(record["id"])
        if rid != prev_id + 1:
            return ChainCheck(
                count,
                prev_hash,
                rid,
                f"record {rid} follows record {prev_id}: records {prev_id + 1}..{rid - 1} "
                "are missing",
            )
        if record["prev_hash"] != prev_hash:
            return ChainCheck(
                count,
                prev_hash,
                rid,
                f"record {rid}: prev_hash is {record['prev_hash']}, expected {prev_hash} "
                f"(the hash of record {prev_id})",
            )
        expected = record_hash(prev_hash, record)
        if record["hash"] != expected:
            return ChainCheck(
                count,
                prev_hash,
                rid,
                f"record {rid}: its contents hash to {expected}, the stored hash is "
                f"{record['hash']} (the record was changed)",
            )
        count, prev_hash, prev_id = count + 1, expected, rid
    return ChainCheck(count, prev_hash)
