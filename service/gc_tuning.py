"""The cyclic garbage collector of a serving process (``Settings.gc_threshold``).

A server holds a large heap from its start (modules, compiled schemas, the app's routes and
models: ~120,000 tracked objects) and allocates many short-lived containers per document.
With Python's defaults a young collection runs every 700 allocations and a full one, which
walks every tracked object, every few hundred milliseconds under load. After start the heap
built so far is frozen (``gc.freeze``: full collections skip it) and young collections run
every ``gc_threshold`` allocations instead. Cycles are still collected, later.
"""

from __future__ import annotations

import gc

from service.config import Settings


def tune_collector(settings: Settings) -> None:
    """Freeze what start built; set the young generation's threshold (0: Python's own)."""
    gc.collect()
    gc.freeze()
    if settings.gc_threshold:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(settings.gc_threshold, middle, old)
