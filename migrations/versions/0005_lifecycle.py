"""lifecycle: invtNo, cancels, returns, the receipts feed (SPEC §10)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(24, 5, asdecimal=True)


def upgrade() -> None:
    with op.batch_alter_table("bundles") as batch:
        batch.add_column(sa.Column("invt_no", sa.String(length=18), nullable=True))
        batch.add_column(sa.Column("cancelled_at", _TS, nullable=True))
        batch.create_unique_constraint(op.f("uq_bundles_invt_no"), ["invt_no"])
    with op.batch_alter_table("manifest") as batch:
        batch.add_column(sa.Column("invt_no", sa.String(length=18), nullable=True))
    op.create_table(
        "bundle_returns",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("bundle_id", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("invt_no", sa.String(length=18), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("value", _MONEY, nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_bundle_returns_bundle_id_bundles")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_bundle_returns_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_returns")),
    )
    op.create_index(op.f("ix_bundle_returns_bundle_id"), "bundle_returns", ["bundle_id"])
    op.create_table(
        "receipts",
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
    op.create_index(op.f("ix_receipts_recipient_seq"), "receipts", ["recipient", "seq"])


def downgrade() -> None:
    op.drop_index(op.f("ix_receipts_recipient_seq"), table_name="receipts")
    op.drop_table("receipts")
    op.drop_index(op.f("ix_bundle_returns_bundle_id"), table_name="bundle_returns")
    op.drop_table("bundle_returns")
    with op.batch_alter_table("manifest") as batch:
        batch.drop_column("invt_no")
    with op.batch_alter_table("bundles") as batch:
        batch.drop_constraint(op.f("uq_bundles_invt_no"), type_="unique")
        batch.drop_column("cancelled_at")
        batch.drop_column("invt_no")
