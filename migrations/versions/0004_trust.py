"""trust: certificates, key lifecycle, audit hash chain, rate buckets (SPEC §11)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 17:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", _TS, nullable=True))
        batch.add_column(sa.Column("revoked_at", _TS, nullable=True))
        batch.add_column(sa.Column("last_used_at", _TS, nullable=True))
        batch.add_column(sa.Column("replaced_by", _ID, nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("signature_serial", sa.String(length=80), nullable=True))
    op.create_table(
        "certificates",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("serial", sa.String(length=80), nullable=False),
        sa.Column("serial_number", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("algorithm", sa.String(length=10), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("der_sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("not_before", _TS, nullable=False),
        sa.Column("not_after", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint(
            "code", "serial_number", name=op.f("uq_certificates_code_serial_number")
        ),
    )
    op.create_index(op.f("ix_certificates_serial_number"), "certificates", ["serial_number"])
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("key_id", _ID, autoincrement=False, nullable=False),
        sa.Column("tokens", sa.Float(precision=53), nullable=False),
        sa.Column("at", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_rate_buckets")),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_certificates_serial_number"), table_name="certificates")
    op.drop_table("certificates")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("signature_serial")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("replaced_by")
        batch.drop_column("last_used_at")
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
