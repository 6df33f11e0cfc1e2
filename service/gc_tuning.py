"""The cyclic garbage collector of a serving process (``Settings.gc_threshold``).

A server holds a large heap from its start (modules, compiled schemas, the app's routes and
models: ~149,000 tracked objects in one process on SQLite, measured) and allocates many
short-lived containers per document. With Python's defaults a young collection runs every
700 allocations and a full one, which walks every tracked object, about every second under
load (~25 in a 30 s bench run at 100 documents a message). After start the heap
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
