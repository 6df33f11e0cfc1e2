"""movement: arrival, master bill and departure on the bundle (SPEC §10)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("bundles") as batch:
        batch.add_column(sa.Column("arrived_at", _TS, nullable=True))
        batch.add_column(sa.Column("departed_at", _TS, nullable=True))
        batch.add_column(sa.Column("bill_no", sa.String(length=37), nullable=True))
        batch.create_index(batch.f("ix_bundles_bill_no"), ["bill_no"])
    op.create_table(
        "waybill_arrivals",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("logistics_code", sa.String(length=18), nullable=False),
        sa.Column("logistics_no", sa.String(length=60), nullable=False),
        sa.Column("direction", sa.String(length=1), nullable=False),
        sa.Column("arrived_at", _TS, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_waybill_arrivals_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waybill_arrivals")),
        sa.UniqueConstraint(
            "logistics_code",
            "logistics_no",
            "direction",
            name=op.f("uq_waybill_arrivals_logistics_code_logistics_no_direction"),
        ),
    )


def downgrade() -> None:
    op.drop_table("waybill_arrivals")
    with op.batch_alter_table("bundles") as batch:
        batch.drop_index(batch.f("ix_bundles_bill_no"))
        batch.drop_column("bill_no")
        batch.drop_column("departed_at")
        batch.drop_column("arrived_at")
