"""``python -m loadtest bench`` is one command: servers, traffic, JSON report and plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loadtest.__main__ import build_parser, main
from tests import databases


def bench(out: Path, *options: str) -> dict[str, Any]:
    """``python -m loadtest bench`` with ``options``, small and quiet; its JSON report."""
    assert main(["bench", *options, "--no-progress", "--out", str(out)]) == 0
    report: dict[str, Any] = json.loads((out / "bench.json").read_text())
    return report


def test_bench_runs_all_three_targets_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the suite's database server when it has one (CI's second run), else SQLite files
    url = databases.test_database_url()
    database = ["--database", str(url)] if databases.on_postgres() else ["--sqlite"]
    out = tmp_path / "bench"
    report = bench(
        out, *database, "--consignments", "6", "--docs-per-message", "3", "--connections", "2"
    )
    assert (out / "bench.png").read_bytes().startswith(b"\x89PNG")
    assert set(report["runs"]) == {"physics", "ceiling", "baseline", "sandan"}
    assert report["baseline_messages"] == "one document per message"
    assert report["runs"]["baseline"]["server_settings"]["intake_batch_max_documents"] == 1
    for run in report["runs"].values():
        assert run["documents"]["accepted"] == run["documents"]["sent"]
    assert "decisions" not in report["runs"]["ceiling"]
    assert "decisions" not in report["runs"]["physics"]
    assert report["runs"]["sandan"]["decisions"]["bundles_decided"] == 6
    # SPEC §11: the verification cost per message, per signature scheme
    costs = report["signature_verification_us"]
    assert [name.split()[0] for name in costs] == ["RSA-2048", "SM2"]
    for parts in costs.values():
        assert all(parts[p] > 0 for p in ("c14n + digest", "signature value", "total"))
    # the servers' own account of their intake transactions (none for the ceiling)
    batches = report["runs"]["sandan"]["intake_batches"]
    assert batches["batches"] >= 1
    assert set(batches["seconds_per_phase"]) == {
        "begin",
        "lock",
        "read",
        "apply",
        "write",
        "decide",
        "commit",
    }
    assert sum(batches["seconds_per_phase"].values()) > 0
    assert "intake_batches" not in report["runs"]["ceiling"]
    assert report["ratios"]["sandan_over_ceiling"] > 0
    assert report["ratios"]["sandan_over_baseline"] > 0
    assert report["ratios"]["sandan_over_physics"] > 0
    # the per-stage profile of Sandan's batches, from its own counters
    profile = report["runs"]["sandan"]["profile"]
    assert profile["us_per_document"]["prepare"] > 0
    assert profile["statements_per_batch"] > 0
    assert profile["statement_texts"] > 0
    assert "profile" not in report["runs"]["physics"]
    assert report["conditions"]["machine"]["cpus"] >= 1
    assert "sandan_over_ceiling" in capsys.readouterr().out


def test_every_command_explains_itself() -> None:
    parser = build_parser()
    for command in ("run", "bench", "soak", "ceiling", "physics"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([command, "--help"])
        assert exit_.value.code == 0


@pytest.mark.skipif(
    not databases.on_postgres(), reason="several server processes share one PostgreSQL database"
)
def test_bench_spreads_connections_over_several_server_processes(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    report = bench(
        out,
        *("--database", str(databases.test_database_url()), "--targets", "ceiling,sandan"),
        *("--processes", "2", "--consignments", "20", "--docs-per-message", "1"),
        *("--connections", "4"),
    )
    sandan = report["runs"]["sandan"]
    assert report["processes"] == sandan["processes"] == 2
    assert sandan["documents"]["accepted"] == sandan["documents"]["sent"]
    assert sandan["decisions"]["bundles_decided"] == 20
    # both servers took messages (each logs its requests) and were sampled
    for log in ("sandan.log", "sandan-2.log"):
        assert "POST /v1/messages 200" in (out / log).read_text(), log
    assert sandan["cpu_pct_mean"]["server"] > 0


def test_several_processes_need_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--sqlite", "--processes", "2", "--no-progress"]) == 2
    assert "needs PostgreSQL" in capsys.readouterr().err
