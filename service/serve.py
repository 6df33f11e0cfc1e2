"""Running the HTTP service: one process, or several worker processes sharing one port.

Python runs one core per process, so on PostgreSQL ``sandan serve`` starts a worker per core
(``Settings.worker_count``) under uvicorn's supervisor. Each worker is a fresh interpreter
that imports ``service.app:create_served_app`` and builds its own Settings from the environment:
whatever the command line decided must reach it there. One process (SQLite, or
``--workers 1``) serves the app object directly, as before.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from typing import Any

from service.config import Settings
from service.logs import logging_config
from service.multiprocess_metrics import shared_directory

APP_FACTORY = "service.app:create_served_app"


def event_loop_options() -> dict[str, str]:
    """uvloop and httptools when installed (measured faster for this service); uvicorn's stock
    asyncio loop and h11 parser otherwise, so a platform without the wheels still serves."""
    have = importlib.util.find_spec
    return {
        "loop": "uvloop" if have("uvloop") else "asyncio",
        "http": "httptools" if have("httptools") else "h11",
    }


def announce_when_ready(host: str, port: int, *, every: float = 0.2) -> threading.Thread:
    """Print one line once the server answers ``/healthz``, from a thread beside uvicorn's
    (in the supervisor too: whichever worker answers, the port is served)."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{local}:{port}"

    def watch() -> None:
        import httpx

        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(every)
        print(f"sandan is ready at {url} (review UI {url}/review, API {url}/docs)", flush=True)

    thread = threading.Thread(target=watch, name="announce-ready", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    announce_when_ready(host, port)

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": logging_config(settings.log_level, settings.log_format),
        "access_log": False,  # the request middleware logs each request with its id
        **event_loop_options(),
    }
    workers = settings.worker_count
    if workers == 1:
        from service.app import create_app

        uvicorn.run(create_app(settings, serving=True), **options)
        return
    # The workers read their Settings from the environment: a --workers given on the command
    # line must be there too, or each would count cores itself (and choose the defaults that
    # follow from it, such as prepare workers, on another number).
    os.environ["SANDAN_WORKERS"] = str(workers)
    with shared_directory():
        # uvicorn kills a worker that has not answered its health ping within this many
        # seconds of starting (default 5): on a loaded machine, importing and migrating can
        # take longer, and the worker died at start with no error of its own.
        options["timeout_worker_healthcheck"] = 30
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)
