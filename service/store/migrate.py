"""Running the Alembic migrations from code (``sandan migrate``, ``sandan serve`` on SQLite)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    root = Path(os.environ.get("SANDAN_HOME", REPO_ROOT))
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str) -> None:
    """Bring the database to the newest schema; a no-op when it already is."""
    command.upgrade(alembic_config(database_url), "head")
