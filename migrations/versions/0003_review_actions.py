"""review actions: the operators' audit trail, and the review queue's index

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "review_actions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("bundle_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("key_id", _ID, nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=False),
        sa.Column("new_version", sa.Integer(), nullable=False),
        sa.Column("state_before", sa.String(length=10), nullable=False),
        sa.Column("state_after", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_review_actions_bundle_id_bundles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_actions")),
    )
    op.create_index(op.f("ix_review_actions_bundle_id"), "review_actions", ["bundle_id"])
    op.create_index(op.f("ix_review_actions_at"), "review_actions", ["at"])
    op.create_index("ix_bundles_state_first_seen_at", "bundles", ["state", "first_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_bundles_state_first_seen_at", table_name="bundles")
    op.drop_index(op.f("ix_review_actions_at"), table_name="review_actions")
    op.drop_index(op.f("ix_review_actions_bundle_id"), table_name="review_actions")
    op.drop_table("review_actions")
