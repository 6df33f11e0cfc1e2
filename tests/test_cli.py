"""The ``sandan`` command: ``keys create``, ``migrate``, ``serve``'s processes (SPEC §6, §8)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import Settings
from service.messages.registry import Kind
from tests.e2e.conftest import deploy, fresh
from tests.e2e.server import REPO_ROOT

# The installed console script when present (what an operator types), else the module.
_SCRIPT = Path(sys.executable).with_name("sandan")
SANDAN = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "service.cli"]
POSTGRES = "postgresql+asyncpg://sandan@db:5432/sandan"  # never connected to


def sandan(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SANDAN, *args],
        cwd=REPO_ROOT,
        env={**os.environ, "SANDAN_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_keys_create_prints_a_key_that_authenticates(tmp_path: Path) -> None:
    with deploy(tmp_path) as deployment:
        consignment = fresh()
        platform = consignment.order["ebpCode"]
        done = sandan(
            deployment.settings.database_url,
            *("keys", "create", "--code", platform, "--role", "platform", "--name", "n"),
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        key = lines[-1]
        assert key.startswith("sk_"), done.stdout
        assert len(key) > len("sk_") + 20
        assert platform in done.stdout

        def post(kind: Kind, bearer: str) -> int:
            response = deployment.client.post(
                "/v1/messages",
                content=consignment.message(kind),
                headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/xml"},
            )
            if response.status_code == 200:
                [result] = response.json()["documents"]
                assert result["status"] == "accepted", result
            return response.status_code

        assert post(Kind.ORDER, key) == 200
        assert post(Kind.ORDER, key[:-1] + ("A" if key[-1] != "A" else "B")) == 401
        # the key has the platform role only: a payment voucher is not its to send
        assert post(Kind.PAYMENT, key) == 403


def test_keys_create_with_several_codes_and_roles(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    done = sandan(
        sqlite_url(db),
        *("keys", "create", "--code", "3301960005", "--code", "3301960002"),
        *("--role", "agent", "--role", "platform", "--name", "broker"),
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("sk_")
    [(code, codes, roles, name, key_hash)] = query(
        db, "SELECT code, codes, roles, name, key_hash FROM api_keys"
    )
    assert code == "3301960005"  # the first code is the key's own
    assert json.loads(str(codes)) == ["3301960005", "3301960002"]
    assert sorted(json.loads(str(roles))) == ["agent", "platform"]
    assert name == "broker"
    # stored hashed, never in clear
    assert key_hash != key
    assert key.encode() not in db.read_bytes()


def test_migrate_creates_the_schema_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    assert not db.exists()
    done = sandan(sqlite_url(db), "migrate")
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    tables = {name for (name,) in query(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"api_keys", "bundles", "documents", "manifest", "alembic_version"} <= tables
    [(version,)] = query(db, "SELECT version_num FROM alembic_version")

    again = sandan(sqlite_url(db), "migrate")
    assert again.returncode == 0, again.stderr
    assert query(db, "SELECT version_num FROM alembic_version") == [(version,)]


def test_unknown_role_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "bogus.db"
    done = sandan(sqlite_url(db), *("keys", "create", "--code", "3301960001", "--role", "bogus"))
    assert done.returncode != 0
    assert "bogus" in done.stderr
    assert "sk_" not in done.stdout
    if db.exists():
        assert query(db, "SELECT count(*) FROM api_keys") == [(0,)]


def test_keys_create_needs_a_code(tmp_path: Path) -> None:
    done = sandan(sqlite_url(tmp_path / "nocode.db"), "keys", "create", "--role", "platform")
    assert done.returncode != 0
    assert "--code" in done.stderr


def test_serve_help_offers_workers() -> None:
    done = subprocess.run(
        [*SANDAN, "serve", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--workers" in done.stdout


def test_workers_default_one_on_sqlite_and_one_per_core_on_postgres(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SANDAN_WORKERS", raising=False)
    monkeypatch.delenv("SANDAN_PREPARE_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    sqlite = Settings(database_url="sqlite+aiosqlite:///x.db")
    assert (sqlite.worker_count, sqlite.prepare_worker_count) == (1, 0)
    postgres = Settings(database_url=POSTGRES)
    # several server processes already use every core: no prepare helpers of their own
    assert (postgres.worker_count, postgres.prepare_worker_count) == (6, 0)
    one = Settings(database_url=POSTGRES, workers=1)
    assert (one.worker_count, one.prepare_worker_count) == (1, 1)
    assert Settings(database_url=POSTGRES, workers=3, prepare_workers=2).prepare_worker_count == 2
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: still one process
    assert Settings(database_url=POSTGRES).worker_count == 1


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    done = sandan(sqlite_url(db), "serve", "--workers", "2", "--port", "1")
    assert done.returncode == 2
    assert "need PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr
    by_env = subprocess.run(
        [*SANDAN, "serve", "--port", "1"],
        cwd=REPO_ROOT,
        env={**os.environ, "SANDAN_DATABASE_URL": sqlite_url(db), "SANDAN_WORKERS": "4"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert by_env.returncode == 2
    assert "4 server processes" in by_env.stderr
    assert not db.exists()  # refused before anything was migrated
