"""review search: indexes for the queue's prefix search on order, waybill and invt numbers

PostgreSQL: LIKE 'p%' uses a btree index only under the C collation or with the pattern
operator class, so the indexes are text_pattern_ops (which serve equality as well: the order
number index is rebuilt so, and keeps its name). SQLite: GLOB 'p*' uses plain indexes; its
order number and invt_no ones exist already (the latter the unique constraint's), the invt_no
index below is PostgreSQL's need and costs SQLite one more small index per bundle.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pattern(column: str) -> dict[str, dict[str, str]]:
    return {"postgresql_ops": {column: "text_pattern_ops"}}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_bundles_order_no", table_name="bundles")
        op.create_index("ix_bundles_order_no", "bundles", ["order_no"], **_pattern("order_no"))
    op.create_index(
        "ix_bundles_inv_logistics_no",
        "bundles",
        ["inv_logistics_no"],
        **_pattern("inv_logistics_no"),
    )
    op.create_index("ix_bundles_invt_no", "bundles", ["invt_no"], **_pattern("invt_no"))
    waybills = sa.text("kind = 'logistics'")
    op.create_index(
        "ix_documents_waybill_no",
        "documents",
        ["kind", "logistics_no"],
        postgresql_where=waybills,
        sqlite_where=waybills,
        **_pattern("logistics_no"),
    )


def downgrade() -> None:
    op.drop_index("ix_documents_waybill_no", table_name="documents")
    op.drop_index("ix_bundles_invt_no", table_name="bundles")
    op.drop_index("ix_bundles_inv_logistics_no", table_name="bundles")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_bundles_order_no", table_name="bundles")
        op.create_index("ix_bundles_order_no", "bundles", ["order_no"])
