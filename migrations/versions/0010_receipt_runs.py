"""receipts stored in runs (one row per recipient per issue), with a ``receipts`` view

The receipts an intake batch issues to one sender are one row instead of one row each (see
``service/store/receipts.py``). The rows already stored become runs of one. SQL readers keep a
``receipts`` view with the former columns, one row per receipt.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_ITEM_FIELDS = (
    "message_type",
    "guid",
    "invt_no",
    "bundle_id",
    "return_status",
    "return_time",
    "return_info",
    "fields",
)

# One row per receipt, as the ``receipts`` table of 0005 had them.
_VIEW = {
    "postgresql": """
        CREATE VIEW receipts AS
        SELECT r.first_seq + i.ord - 1 AS seq, r.recipient,
               i.item->>'message_type' AS message_type, i.item->>'guid' AS guid,
               i.item->>'invt_no' AS invt_no, (i.item->>'bundle_id')::bigint AS bundle_id,
               i.item->>'return_status' AS return_status,
               i.item->>'return_time' AS return_time, i.item->>'return_info' AS return_info,
               i.item->'fields' AS fields, r.created_at
        FROM receipt_runs r
        CROSS JOIN LATERAL json_array_elements(r.items) WITH ORDINALITY AS i(item, ord)
    """,
    "sqlite": """
        CREATE VIEW receipts AS
        SELECT r.first_seq + i.key AS seq, r.recipient,
               json_extract(i.value, '$.message_type') AS message_type,
               json_extract(i.value, '$.guid') AS guid,
               json_extract(i.value, '$.invt_no') AS invt_no,
               json_extract(i.value, '$.bundle_id') AS bundle_id,
               json_extract(i.value, '$.return_status') AS return_status,
               json_extract(i.value, '$.return_time') AS return_time,
               json_extract(i.value, '$.return_info') AS return_info,
               json_extract(i.value, '$.fields') AS fields, r.created_at
        FROM receipt_runs r, json_each(r.items) AS i
    """,
}


def _receipts_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "receipts",
        metadata,
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recipient", sa.String(length=18), nullable=False),
        sa.Column("message_type", sa.String(length=20), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("invt_no", sa.String(length=18), nullable=True),
        sa.Column("bundle_id", _ID, nullable=True),
        sa.Column("return_status", sa.String(length=10), nullable=False),
        sa.Column("return_time", sa.String(length=17), nullable=False),
        sa.Column("return_info", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_receipts")),
    )


def _runs_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "receipt_runs",
        metadata,
        sa.Column("first_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("recipient", sa.String(length=18), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("first_seq", name=op.f("pk_receipt_runs")),
    )


def upgrade() -> None:
    runs = _runs_table(sa.MetaData())
    runs.create(op.get_bind())
    op.create_index(
        op.f("ix_receipt_runs_recipient_last_seq"), "receipt_runs", ["recipient", "last_seq"]
    )
    old = _receipts_table(sa.MetaData())
    bind = op.get_bind()
    stored = bind.execute(sa.select(old).order_by(old.c.seq)).mappings().all()
    if stored:
        bind.execute(
            sa.insert(runs),
            [
                {
                    "first_seq": r["seq"],
                    "last_seq": r["seq"],
                    "recipient": r["recipient"],
                    "items": [{k: r[k] for k in _ITEM_FIELDS}],
                    "created_at": r["created_at"],
                }
                for r in stored
            ],
        )
    op.drop_index(op.f("ix_receipts_recipient_seq"), table_name="receipts")
    op.drop_table("receipts")
    op.execute(_VIEW[bind.dialect.name])


def downgrade() -> None:
    bind = op.get_bind()
    op.execute("DROP VIEW receipts")
    runs = _runs_table(sa.MetaData())
    stored = bind.execute(sa.select(runs).order_by(runs.c.first_seq)).mappings().all()
    old = _receipts_table(sa.MetaData())
    old.create(bind)
    op.create_index(op.f("ix_receipts_recipient_seq"), "receipts", ["recipient", "seq"])
    rows = [
        {"seq": r["first_seq"] + i, "recipient": r["recipient"], **item, "created_at": r["created_at"]}
        for r in stored
        for i, item in enumerate(r["items"])
    ]
    if rows:
        bind.execute(sa.insert(old), rows)
    op.drop_index(op.f("ix_receipt_runs_recipient_last_seq"), table_name="receipt_runs")
    op.drop_table("receipt_runs")
