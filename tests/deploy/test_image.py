"""The image, checked from its Dockerfile and .dockerignore (no Docker engine runs here): it
copies what the service needs to run, leaves the virtualenv and local state out of the
build, keeps the SQLite file in a volume, and runs as production, so it refuses to start
with the built-in development secrets unless SANDAN_ENVIRONMENT=development."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.cli import build_parser
from service.config import DEVELOPMENT_PII_KEY, Settings
from tests.deploy.dockerfile import (
    ROOT,
    arguments,
    environment,
    ignore_patterns,
    ignored,
    instructions,
)

STEPS = instructions()
ENV = environment(STEPS)
PATTERNS = ignore_patterns()
# What `sandan serve` reads at run time besides its Python package.
RUNTIME = ("pyproject.toml", "README.md", "alembic.ini", "service", "schemas", "migrations")


def test_the_image_copies_what_the_service_needs() -> None:
    copied: list[str] = []
    for word, rest in STEPS:
        if word == "COPY":
            *sources, _target = arguments(rest)
            copied += [s.rstrip("/") for s in sources]
    assert set(RUNTIME) <= set(copied), copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not ignored(source, PATTERNS), f"{source} is copied but .dockerignore drops it"
    for needed in (
        "service/app.py",
        "service/web/templates/base.html",
        "schemas/import.xsd",
        "migrations/env.py",
    ):
        assert (ROOT / needed).exists() and not ignored(needed, PATTERNS), needed


def test_the_build_context_leaves_out_the_virtualenv_and_local_state() -> None:
    for path in (
        ".venv/lib/python3.11/site-packages/fastapi/__init__.py",
        ".git/HEAD",
        "sandan.db",
        "sandan.db-wal",
        "service/__pycache__/app.cpython-311.pyc",
        ".mypy_cache/3.11/x.json",
        "sandan.egg-info/PKG-INFO",
        "docs/screenshots/queue.png",
    ):
        assert ignored(path, PATTERNS), path


def test_the_image_runs_as_production_with_its_database_in_a_volume() -> None:
    assert ENV["SANDAN_ENVIRONMENT"] == "production"
    volumes = [v for word, rest in STEPS if word == "VOLUME" for v in arguments(rest)]
    assert volumes == ["/data"]
    assert ENV["SANDAN_DATABASE_URL"] == "sqlite+aiosqlite:////data/sandan.db"
    users = [rest for word, rest in STEPS if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    (cmd,) = [arguments(rest) for word, rest in STEPS if word == "CMD"]
    assert cmd[:2] == ["sandan", "serve"] and "0.0.0.0" in cmd
    build_parser().parse_args(cmd[1:])  # the command exists, with these options


def test_production_refuses_the_development_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(environment="production")
    message = str(refused.value)
    assert "SANDAN_PII_KEY and SANDAN_SESSION_SECRET are still the built-in" in message
    assert "SANDAN_ENVIRONMENT=development" in message
    with pytest.raises(ValidationError, match="SANDAN_PII_KEY is still the built-in"):
        Settings(environment="production", session_secret="s" * 40)
    with pytest.raises(ValidationError, match="SANDAN_SESSION_SECRET is still the built-in"):
        Settings(environment="production", pii_key="p" * 40)
    Settings(environment="production", pii_key="p" * 40, session_secret="s" * 40)
    assert Settings(environment="development").pii_key == DEVELOPMENT_PII_KEY


def _sandan(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``sandan migrate`` with the image's environment (its SQLite file moved to tmp)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SANDAN_")}
    image = {**ENV, "SANDAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/sandan.db"}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "migrate"],
        env={**base, **image, "SANDAN_HOME": str(ROOT), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_image_refuses_to_start_without_secrets_and_says_why(tmp_path: Path) -> None:
    refused = _sandan(tmp_path)
    assert refused.returncode == 2
    assert "SANDAN_PII_KEY and SANDAN_SESSION_SECRET are still the built-in" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "sandan.db").exists()
    # with secrets of its own, or told it is development, it starts
    secrets = {"SANDAN_PII_KEY": "p" * 40, "SANDAN_SESSION_SECRET": "s" * 40}
    assert _sandan(tmp_path, **secrets).returncode == 0
    assert _sandan(tmp_path, SANDAN_ENVIRONMENT="development").returncode == 0
