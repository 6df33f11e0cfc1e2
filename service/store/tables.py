"""The database schema, as SQLAlchemy Core tables.

Alembic migrations (``migrations/``) are the only way this schema reaches a database; a test
checks that the migrations produce exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Money = Numeric(24, 5, asdecimal=True)
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for big tables.
Id = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)

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
    UniqueConstraint("ebp_code", "order_no"),
    # The review queue's prefix search (store/review.py) reads order_no, inv_logistics_no and
    # invt_no by LIKE 'p%' on PostgreSQL, which a text_pattern_ops index serves whatever the
    # database's collation (it serves equality too); SQLite's GLOB uses a plain index.
    Index(None, "order_no", postgresql_ops={"order_no": "text_pattern_ops"}),
    Index(None, "inv_logistics_no", postgresql_ops={"inv_logistics_no": "text_pattern_ops"}),
    Index(None, "invt_no", postgresql_ops={"invt_no": "text_pattern_ops"}),
    Index(None, "inv_logistics_code", "inv_logistics_no"),
    Index(None, "state", "deadline_at"),
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

bundle_returns = Table(
    "bundle_returns",
    metadata,
    # SPEC §10 returns (退货): one row per accepted return document, in the order applied.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("bundle_id", Id, ForeignKey("bundles.id"), nullable=False),
    Column("document_id", Id, ForeignKey("documents.id"), nullable=False),
    Column("invt_no", String(18), nullable=False),
    Column("at", Timestamp, nullable=False),
    # Σ qty × price of the returned lines (the inventory's prices)
    Column("value", Money, nullable=False),
    # [{"gnum", "qty", "value"}], amounts as decimal strings
    Column("lines", JSON, nullable=False),
    Index(None, "bundle_id"),
)

receipt_runs = Table(
    "receipt_runs",
    metadata,
    # SPEC §10 decision receipts: every receipt issued to an enterprise code, in ``seq``
    # order, gapless and strictly increasing like the manifest's (``counters``), so a feed
    # read by cursor never skips one that commits late. Stored as runs: the receipts one
    # transaction issues in a row to one recipient (an intake batch's per message, a
    # decision's per inventory sender) are one row holding seqs first_seq..last_seq, so a
    # message of 100 documents writes one row, not 100 (store/receipts.py expands them).
    # The ``receipts`` view (migration 0010) shows them one per row, for SQL readers.
    Column("first_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    # the enterprise code the receipts are issued to (the documents' sender)
    Column("recipient", String(18), nullable=False),
    # one object per receipt, in seq order: message_type (the receipt's root, e.g.
    # CEB622Message), guid (of the document it is about), invt_no, bundle_id, return_status,
    # return_time (YYYYMMDDhhmmssSSS, Beijing time), return_info, and fields (the head fields
    # the receipt echoes, ``receipts.receipt_fields``, to render its XML)
    Column("items", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index(None, "recipient", "last_seq"),
)

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
