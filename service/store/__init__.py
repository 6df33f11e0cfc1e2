"""SQLAlchemy Core tables, repositories and transactions. All SQL lives in this package."""
