"""A serving process freezes its start heap and collects its young generation less often."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.app import create_app
from service.config import Settings
from service.gc_tuning import tune_collector
from tests.databases import afresh_database


class _Node:
    other: object = None


@pytest.fixture
def collector() -> Iterator[tuple[int, int, int]]:
    """The test process's collector as it was, put back after the test."""
    gc.unfreeze()
    before = gc.get_threshold()
    yield before
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tuning_freezes_what_exists_and_sets_the_young_threshold(
    collector: tuple[int, int, int],
) -> None:
    assert gc.get_freeze_count() == 0
    tune_collector(Settings(gc_threshold=50_000))
    assert gc.get_threshold() == (50_000, collector[1], collector[2])
    assert gc.get_freeze_count() > 0
    # what is built later is still collected, without being asked: a cycle made now goes
    # once the objects allocated after it pass the threshold, not before (at Python's 700 it
    # would go in the first 10,000; the margin leaves room for other threads' allocations)
    assert gc.isenabled()
    cycle = _Node()
    cycle.other = cycle
    gone = weakref.ref(cycle)
    del cycle
    kept = [[] for _ in range(10_000)]
    assert gone() is not None  # not yet: fewer allocations than the threshold
    kept += [[] for _ in range(45_000)]
    assert gone() is None


def test_zero_keeps_pythons_threshold(collector: tuple[int, int, int]) -> None:
    tune_collector(Settings(gc_threshold=0))
    assert gc.get_threshold() == collector


@pytest.mark.parametrize("serving", [False, True])
async def test_only_an_app_built_to_serve_tunes_its_process(
    collector: tuple[int, int, int], tmp_path: Path, serving: bool
) -> None:
    async with afresh_database(tmp_path) as url:
        app = create_app(Settings(database_url=url, gc_threshold=4_321), serving=serving)
        async with app.router.lifespan_context(app):
            if serving:
                assert gc.get_threshold()[0] == 4_321
                assert gc.get_freeze_count() > 0
            else:
                assert gc.get_threshold() == collector
                assert gc.get_freeze_count() == 0
