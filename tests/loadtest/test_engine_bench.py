"""``python -m loadtest.engine_bench``: the intake transaction alone, on prepared traffic."""

from __future__ import annotations

import sys

import pytest

from loadtest import engine_bench
from tests import databases


def test_it_times_each_batch_size_and_fits_the_fixed_cost(
    tmp_path: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = databases.test_database_url()
    database = ["--database", str(url)] if databases.on_postgres() else ["--sqlite"]
    argv = ["engine_bench", *database, "--consignments", "8", "--batch-sizes", "1,5"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(tmp_path)])
    engine_bench.main()
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("batch")]
    assert len(lines) == 2, out
    # every document of the traffic went through a timed batch but the warm-up one
    assert lines[0].split()[3] == str(
        sum(1 for _ in engine_bench.prepared_submissions(8, 1, 11)) - 1
    )
    assert "statements/batch" in lines[1]
    assert "µs per document by phase: begin" in out
    assert "fit over all batches" in out


def test_traffic_is_cut_into_batches_of_the_size_asked() -> None:
    traffic = engine_bench.prepared_submissions(5, 3, seed=2)
    batches = engine_bench.batches(traffic, 4)
    sizes = [sum(len(items) for _, items in batch) for batch in batches]
    assert all(size == 4 for size in sizes[:-1]) and 0 < sizes[-1] <= 4
    assert sum(sizes) == sum(len(items) for _, items in traffic)
