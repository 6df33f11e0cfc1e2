"""export summary (汇总申报, SPEC §10): summaries and the inventories each holds

Revision ID: 0007
Revises: 0006 (re-chained onto 0006 when the arrival/departure work merges)
Create Date: 2026-12-03 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "summaries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sum_no", sa.String(length=18), nullable=True),
        sa.Column("document_id", _ID, nullable=True),
        sa.Column("ebc_code", sa.String(length=18), nullable=False),
        sa.Column("agent_code", sa.String(length=18), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("released_from", _TS, nullable=True),
        sa.Column("released_to", _TS, nullable=True),
        sa.Column("head", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_summaries_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summaries")),
        sa.UniqueConstraint("sum_no", name=op.f("uq_summaries_sum_no")),
    )
    op.create_index(op.f("ix_summaries_ebc_code_id"), "summaries", ["ebc_code", "id"])
    op.create_table(
        "summary_inventories",
        sa.Column("summary_id", _ID, nullable=False),
        sa.Column("invt_no", sa.String(length=18), nullable=False),
        sa.Column("bundle_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["summary_id"],
            ["summaries.id"],
            name=op.f("fk_summary_inventories_summary_id_summaries"),
        ),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_summary_inventories_bundle_id_bundles")
        ),
        sa.UniqueConstraint("invt_no", name=op.f("uq_summary_inventories_invt_no")),
    )
    op.create_index(
        op.f("ix_summary_inventories_bundle_id"), "summary_inventories", ["bundle_id"]
    )
    op.create_index(
        op.f("ix_summary_inventories_summary_id"), "summary_inventories", ["summary_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_summary_inventories_summary_id"), table_name="summary_inventories")
    op.drop_index(op.f("ix_summary_inventories_bundle_id"), table_name="summary_inventories")
    op.drop_table("summary_inventories")
    op.drop_index(op.f("ix_summaries_ebc_code_id"), table_name="summaries")
    op.drop_table("summaries")
