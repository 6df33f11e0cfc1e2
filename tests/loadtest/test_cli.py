"""``python -m loadtest bench`` is one command: servers, traffic, JSON report and plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.__main__ import build_parser, main
from tests import databases


def test_bench_runs_all_three_targets_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the suite's database server when it has one (CI's second run), else SQLite files
    url = databases.test_database_url()
    database = ["--database", str(url)] if databases.on_postgres() else ["--sqlite"]
    out = tmp_path / "bench"
    code = main(
        [
            "bench",
            *database,
            "--consignments",
            "6",
            "--docs-per-message",
            "3",
            "--connections",
            "2",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads((out / "bench.json").read_text())
    assert (out / "bench.png").read_bytes().startswith(b"\x89PNG")
    assert set(report["runs"]) == {"ceiling", "baseline", "sandan"}
    assert report["baseline_messages"] == "one document per message"
    assert report["runs"]["baseline"]["server_settings"]["intake_batch_max_documents"] == 1
    for run in report["runs"].values():
        assert run["documents"]["accepted"] == run["documents"]["sent"]
    assert "decisions" not in report["runs"]["ceiling"]
    assert report["runs"]["sandan"]["decisions"]["bundles_decided"] == 6
    assert report["ratios"]["sandan_over_ceiling"] > 0
    assert report["ratios"]["sandan_over_baseline"] > 0
    assert report["conditions"]["machine"]["cpus"] >= 1
    assert "sandan_over_ceiling" in capsys.readouterr().out


def test_every_command_explains_itself() -> None:
    parser = build_parser()
    for command in ("run", "bench", "soak", "ceiling"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([command, "--help"])
        assert exit_.value.code == 0
