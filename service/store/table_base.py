"""What every table of the schema shares: the metadata with its naming convention, and the
column types used throughout (``store.tables`` gathers the tables)."""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Numeric

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
