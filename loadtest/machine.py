"""The conditions a figure was measured under: printed and kept in every report."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy.engine import make_url

# PostgreSQL settings that move the figures (durability, memory, parallelism).
PG_SETTINGS = (
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "wal_level",
    "max_connections",
    "work_mem",
    "checkpoint_timeout",
    "max_wal_size",
)


def cpu_model() -> str:
    with_model = Path("/proc/cpuinfo")
    if with_model.exists():
        for line in with_model.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }


def postgres(url: str) -> dict[str, Any]:
    """Server version and the settings that matter, or the reason they could not be read."""

    async def read() -> dict[str, Any]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            out: dict[str, Any] = {"version": await conn.fetchval("SHOW server_version")}
            for name in PG_SETTINGS:
                out[name] = await conn.fetchval(f"SHOW {name}")
            return out
        finally:
            await conn.close()

    try:
        return asyncio.run(read())
    except (OSError, asyncpg.PostgresError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def describe(conditions: dict[str, Any]) -> str:
    m = conditions["machine"]
    lines = [
        f"machine: {m['cpus']} CPUs ({m['cpus_usable']} usable) {m['cpu_model']}, "
        f"{m['memory_gb']} GiB, load {m['load_average']}, Python {m['python']}, {m['os']}",
    ]
    pg = conditions.get("postgres")
    if pg:
        lines.append("postgres: " + ", ".join(f"{k}={v}" for k, v in pg.items()))
    if conditions.get("settings"):
        lines.append(
            "settings: " + ", ".join(f"{k}={v}" for k, v in conditions["settings"].items())
        )
    return "\n".join(lines)
