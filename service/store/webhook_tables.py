"""The tables of the warehouses' webhook subscriptions and their delivery attempts."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from service.store.table_base import Id, Timestamp, metadata

webhooks = Table(
    "webhooks",
    metadata,
    # A warehouse's subscription to its manifest entries, POSTed to ``url`` (queue/webhooks.py).
    Column("id", Id, primary_key=True, autoincrement=True),
    # The enterprise code that owns it (the creating key's) and that key: deliveries carry
    # what the key, or the key that replaced it in a rotation, may read of the manifest.
    Column("code", String(18), nullable=False),
    Column("key_id", Id, nullable=False),
    Column("url", Text, nullable=False),
    # The signing secret, AES-GCM sealed with a key derived from SANDAN_PII_KEY
    # (security/webhook_secrets.py): shown once, when the subscription is created.
    Column("secret", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # active | paused (after ``webhook_max_failures`` failed attempts in a row)
    Column("state", String(10), nullable=False),
    # The last manifest seq delivered (answered 2xx) or passed over as not the caller's.
    Column("cursor", BigInteger, nullable=False),
    # Failed attempts since the last success; the next attempt is not before ``retry_at``.
    Column("failures", Integer, nullable=False),
    Column("retry_at", Timestamp, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_delivered_at", Timestamp, nullable=True),
    # The one deliverer at a time: a process claims the subscription until ``lease_until``.
    Column("lease_owner", String(80), nullable=True),
    Column("lease_until", Timestamp, nullable=True),
    Index(None, "code"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    # Every attempt to deliver, successful or not (GET /v1/webhooks/{id}/deliveries).
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("webhook_id", Id, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("at", Timestamp, nullable=False),
    # 1 for the first try of entries from this cursor, 2 for the first retry, ...
    Column("attempt", Integer, nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("entries", Integer, nullable=False),
    # the receiver's HTTP status, or the error when there was no answer (timeout, refused)
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    # when the next attempt was scheduled after this failed one (None: success or paused)
    Column("retry_at", Timestamp, nullable=True),
    Index(None, "webhook_id", "id"),
)
