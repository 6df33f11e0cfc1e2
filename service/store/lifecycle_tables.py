"""The tables of a consignment's life after its decision (SPEC §10): returns, arrivals by
waybill, the receipts feed, summaries."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from service.store.table_base import Id, Money, Timestamp, metadata

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

waybill_arrivals = Table(
    "waybill_arrivals",
    metadata,
    # SPEC §10 arrivals by waybill number, kept for the consignments not yet naming it: an
    # inventory that comes to name the waybill later finds its arrival here. The first
    # arrival of a number counts.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("logistics_code", String(18), nullable=False),
    Column("logistics_no", String(60), nullable=False),
    Column("direction", String(1), nullable=False),
    Column("arrived_at", Timestamp, nullable=False),
    Column("document_id", Id, ForeignKey("documents.id"), nullable=False),
    UniqueConstraint("logistics_code", "logistics_no", "direction"),
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

summaries = Table(
    "summaries",
    metadata,
    # SPEC §10 汇总申报: one row per accepted summary application (CEB701), with the
    # result Sandan builds for it (the CEB792's content)
    Column("id", Id, primary_key=True, autoincrement=True),
    # 汇总申请编号, given once the row has its id (``engine.sum_no``)
    Column("sum_no", String(18), nullable=True, unique=True),
    Column("document_id", Id, ForeignKey("documents.id"), nullable=True),
    Column("ebc_code", String(18), nullable=False),
    Column("agent_code", String(18), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    # the first and last release among its inventories
    Column("released_from", Timestamp, nullable=True),
    Column("released_to", Timestamp, nullable=True),
    # the CEB792 head fields (customsCode, names, flags, weights as decimal strings)
    Column("head", JSON, nullable=False),
    # the groups: [{"gseqno", "gcode", "gname", "country", "currency", "unit", "ownerCode",
    # "qty", "totalPrice"}], amounts as decimal strings
    Column("lines", JSON, nullable=False),
    # each inventory line: [{"invtNo", "logisticsNo", "gnum", "gcode", "gseqno"}]
    Column("items", JSON, nullable=False),
    Index(None, "ebc_code", "id"),
)

summary_inventories = Table(
    "summary_inventories",
    metadata,
    # The inventories of each summary. The unique invtNo is what keeps one list out of two
    # accepted summaries (SUMMARY_DUPLICATE), also when two processes summarise it at once.
    Column("summary_id", Id, ForeignKey("summaries.id"), nullable=False),
    Column("invt_no", String(18), nullable=False, unique=True),
    Column("bundle_id", Id, ForeignKey("bundles.id"), nullable=False),
    Index(None, "bundle_id"),
    Index(None, "summary_id"),
)
