"""The database schema, as SQLAlchemy Core tables.

Alembic migrations (``migrations/``) are the only way this schema reaches a database; a test
checks that the migrations produce exactly these tables. The core tables (keys, bundles,
documents, the manifest, trust) are here; the lifecycle's and the webhooks' in their own
modules, gathered here so that ``metadata`` holds every table whatever is imported.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from service.store.lifecycle_tables import (
    bundle_returns,
    receipt_runs,
    summaries,
    summary_inventories,
    waybill_arrivals,
)
from service.store.table_base import Id, Money, Timestamp, metadata
from service.store.webhook_tables import webhook_deliveries, webhooks

__all__ = [
    "Id",
    "Money",
    "Timestamp",
    "annual_ledger",
    "api_keys",
    "audit_log",
    "bundle_events",
    "bundle_returns",
    "bundles",
    "certificates",
    "counters",
    "documents",
    "manifest",
    "metadata",
    "rate_buckets",
    "receipt_runs",
    "relay_position",
    "review_actions",
    "summaries",
    "summary_inventories",
    "waybill_arrivals",
    "webhook_deliveries",
    "webhooks",
]

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # sha256 of the key: a key is a 256-bit random secret, so a plain digest is enough and
    # lets the lookup be one indexed equality.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("code", String(18), nullable=False),
    # Every enterprise code this key may act for; ``code`` first.
    Column("codes", JSON, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("name", String(200), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    # SPEC §11 key lifecycle: a key past ``expires_at`` or with ``revoked_at`` set gets 401.
    Column("expires_at", Timestamp, nullable=True),
    Column("revoked_at", Timestamp, nullable=True),
    # Written behind the requests (at most once a minute per key and process), not per request.
    Column("last_used_at", Timestamp, nullable=True),
    # ``sandan keys rotate``: the key that replaced this one (which keeps working for its grace).
    Column("replaced_by", Id, nullable=True),
)

bundles = Table(
    "bundles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ebp_code", String(18), nullable=False),
    Column("order_no", String(60), nullable=False),
    Column("direction", String(1), nullable=True),
    # pending | released | exception | rejected, and after the decision (SPEC §10):
    # cancelled | returned | closed
    Column("state", String(10), nullable=False),
    # Bumped by every accepted document change and every decision: decisions name it.
    Column("version", Integer, nullable=False),
    Column("regime_declared", String(4), nullable=True),
    Column("regime_classified", String(4), nullable=True),
    Column("missing", JSON, nullable=False),
    Column("findings", JSON, nullable=False),
    # Parties, for scoping who may see the bundle (kept from the current documents).
    Column("ebc_code", String(18), nullable=True),
    Column("agent_code", String(18), nullable=True),
    Column("pay_code", String(18), nullable=True),
    Column("area_code", String(18), nullable=True),
    # The waybill the current inventory names: the secondary key waybills attach through.
    Column("inv_logistics_code", String(18), nullable=True),
    Column("inv_logistics_no", String(60), nullable=True),
    Column("first_seen_at", Timestamp, nullable=False),
    Column("deadline_at", Timestamp, nullable=False),
    Column("decided_at", Timestamp, nullable=True),
    # What this bundle put in the annual ledger when released, to give it back on reject.
    Column("ledger_buyer", String(64), nullable=True),
    Column("ledger_year", Integer, nullable=True),
    Column("ledger_amount", Money, nullable=True),
    # SPEC §10: the 清单编号 given when its first inventory was accepted, kept for good.
    Column("invt_no", String(18), nullable=True, unique=True),
    Column("cancelled_at", Timestamp, nullable=True),
    # SPEC §10 movement: 入库 / 运抵 and 离境 times, and the bill of lading (提运单号) the
    # consignment travels under: an export master bill's (CEB607), an import inventory's own
    Column("arrived_at", Timestamp, nullable=True),
    Column("departed_at", Timestamp, nullable=True),
    Column("bill_no", String(37), nullable=True),
    UniqueConstraint("ebp_code", "order_no"),
    # The review queue's prefix search (store/review.py) reads order_no, inv_logistics_no and
    # invt_no by LIKE 'p%' on PostgreSQL, which a text_pattern_ops index serves whatever the
    # database's collation (it serves equality too); SQLite's GLOB uses a plain index.
    Index(None, "order_no", postgresql_ops={"order_no": "text_pattern_ops"}),
    Index(None, "inv_logistics_no", postgresql_ops={"inv_logistics_no": "text_pattern_ops"}),
    Index(None, "invt_no", postgresql_ops={"invt_no": "text_pattern_ops"}),
    Index(None, "inv_logistics_code", "inv_logistics_no"),
    Index(None, "state", "deadline_at"),
    Index(None, "bill_no"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # The enterprise code of the key that sent it: guids are unique per sender and kind.
    Column("sender", String(18), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("guid", String(36), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("direction", String(1), nullable=False),
    Column("message_type", String(20), nullable=False),
    Column("message_guid", String(36), nullable=False),
    Column("app_type", String(1), nullable=False),
    Column("app_time", String(14), nullable=False),
    Column("ebp_code", String(18), nullable=True),
    Column("order_no", String(60), nullable=True),
    Column("logistics_code", String(18), nullable=True),
    Column("logistics_no", String(60), nullable=True),
    Column("bundle_id", Id, ForeignKey("bundles.id"), nullable=True),
    # current | superseded | deleted (a tombstone that keeps later, older versions out)
    Column("status", String(10), nullable=False),
    Column("data", JSON, nullable=False),
    # The document element as received, with personal data masked.
    Column("raw_xml", Text, nullable=False),
    # absent | unverified | verified
    Column("signature", String(10), nullable=False),
    # The serial (lower-case hex) of the certificate a ``verified`` signature verified under.
    Column("signature_serial", String(80), nullable=True),
    Column("return_status", String(10), nullable=False),
    Column("received_at", Timestamp, nullable=False),
    UniqueConstraint("sender", "kind", "guid"),
    Index(None, "bundle_id", "kind"),
    Index(None, "kind", "logistics_code", "logistics_no"),
    Index(None, "kind", "order_no"),
)

manifest = Table(
    "manifest",
    metadata,
    # Strictly increasing and gapless, assigned from ``counters`` inside the deciding
    # transaction, so readers by cursor never skip an entry that commits late.
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(36), nullable=False, unique=True),
    Column("bundle_id", Id, ForeignKey("bundles.id"), nullable=False),
    Column("bundle_version", Integer, nullable=False),
    Column("ebp_code", String(18), nullable=False),
    Column("order_no", String(60), nullable=False),
    Column("logistics_code", String(18), nullable=True),
    Column("logistics_no", String(60), nullable=True),
    Column("ebc_code", String(18), nullable=True),
    Column("agent_code", String(18), nullable=True),
    Column("pay_code", String(18), nullable=True),
    Column("area_code", String(18), nullable=True),
    Column("direction", String(1), nullable=True),
    Column("regime", String(4), nullable=True),
    # the bundle's 清单编号 when it has one (SPEC §10)
    Column("invt_no", String(18), nullable=True),
    # release | exception | reject | cancel | return | close
    Column("decision", String(10), nullable=False),
    Column("rules", JSON, nullable=False),
    Column("decided_at", Timestamp, nullable=False),
    # "engine" or the operator's key name / code
    Column("by", String(100), nullable=False),
    Column("reason", Text, nullable=True),
    # At most one engine decision per bundle version, whatever the number of workers.
    Column("engine_version", Integer, nullable=True),
    UniqueConstraint("bundle_id", "engine_version"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

bundle_events = Table(
    "bundle_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("bundle_id", Id, ForeignKey("bundles.id"), nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("version", Integer, nullable=False),
    # document | decision | operator
    Column("event", String(20), nullable=False),
    Column("detail", JSON, nullable=False),
    Index(None, "bundle_id"),
)

annual_ledger = Table(
    "annual_ledger",
    metadata,
    # Keyed hash of the buyer's ID number: the ledger never sees the number itself.
    Column("buyer", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("amount", Money, nullable=False),
)

relay_position = Table(
    "relay_position",
    metadata,
    # One row per broker stream the manifest is copied to (the stream's name).
    Column("name", String(100), primary_key=True),
    # The last manifest seq the broker acknowledged: the relay resumes after it.
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

# The review queue lists bundles of one state oldest first (service/store/review.py).
Index("ix_bundles_state_first_seen_at", bundles.c.state, bundles.c.first_seen_at)
# ... and searches waybills by the start of their number: only waybills, so the other
# documents' inserts pay nothing for it.
Index(
    "ix_documents_waybill_no",
    # kind first: SQLite then sees kind = 'logistics' and a range on the number in one index,
    # better than the (kind, order_no) index it would otherwise take for the equality
    documents.c.kind,
    documents.c.logistics_no,
    postgresql_ops={"logistics_no": "text_pattern_ops"},
    postgresql_where=documents.c.kind == "logistics",
    sqlite_where=documents.c.kind == "logistics",
)

review_actions = Table(
    "review_actions",
    metadata,
    # The audit trail of operator actions (SPEC §6.4): who, when, why, on which bundle
    # version, and the manifest entry the action appended. Written in the action's own
    # transaction; never updated or deleted.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("bundle_id", Id, ForeignKey("bundles.id"), nullable=False),
    Column("at", Timestamp, nullable=False),
    # The operator: the key's name, or its enterprise code when it has none.
    Column("actor", String(100), nullable=False),
    Column("key_id", Id, nullable=False),
    # release | reject | reopen
    Column("action", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    # The version the operator saw, and the version the action produced.
    Column("bundle_version", Integer, nullable=False),
    Column("new_version", Integer, nullable=False),
    Column("state_before", String(10), nullable=False),
    Column("state_after", String(10), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index(None, "bundle_id"),
    Index(None, "at"),
)

certificates = Table(
    "certificates",
    metadata,
    # Senders' signing certificates (SPEC §11): several per code may be active (rollover).
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(18), nullable=False),
    # The serial's big-endian bytes in lower-case hex, as ``openssl x509 -serial`` prints it.
    Column("serial", String(80), nullable=False),
    # The serial as a number in lower-case hex without leading zeros: what KeyName matches.
    Column("serial_number", String(80), nullable=False),
    Column("name", String(200), nullable=True),
    # rsa | sm2
    Column("algorithm", String(10), nullable=False),
    Column("pem", Text, nullable=False),
    # sha256 of the DER bytes: an embedded ds:X509Certificate matches a registered one by it.
    Column("der_sha256", String(64), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("not_before", Timestamp, nullable=False),
    Column("not_after", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    UniqueConstraint("code", "serial_number"),
    Index(None, "serial_number"),
)

audit_log = Table(
    "audit_log",
    metadata,
    # Operator actions, key and certificate changes (SPEC §11). Each record carries the hash
    # of the one before it; appended under the ``audit`` counter's row lock so the chain is a
    # line whatever the number of processes. Never updated or deleted.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False),
    Column("actor", String(100), nullable=False),
    # e.g. review.release, key.create, key.revoke, key.rotate, certificate.add
    Column("action", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    # One token bucket per API key (SPEC §11 limits), shared by every process on PostgreSQL:
    # ``tokens`` left at ``at`` (seconds since the epoch); refilled at the configured rate.
    Column("key_id", Id, primary_key=True, autoincrement=False),
    Column("tokens", Float(precision=53), nullable=False),
    Column("at", Float(precision=53), nullable=False),
)
