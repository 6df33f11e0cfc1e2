"""Watching the manifest the way a warehouse does: long poll by cursor, note when each
consignment's first entry became visible."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import httpx

from loadtest.driver import Clock


@dataclass(slots=True)
class Seen:
    # (ebpCode, orderNo) -> when its first manifest entry was read
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    # (when read, entries read)
    reads: list[tuple[float, int]] = field(default_factory=list)
    # (ebpCode, orderNo) -> rule codes of its first entry
    first_rules: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    first_decision: dict[tuple[str, str], str] = field(default_factory=dict)
    entries: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class Follower:
    """Reads every entry after the cursor it started at until ``stop`` is called and the
    expected keys have all been seen, or ``drain_seconds`` pass after ``stop``."""

    def __init__(self, url: str, key: str, clock: Clock, drain_seconds: float = 30.0) -> None:
        self._url = url
        self._key = key
        self._clock = clock
        self._drain = drain_seconds
        self._expected: set[tuple[str, str]] = set()
        self._stop_at: float | None = None
        self.seen = Seen()

    async def start_cursor(self) -> int:
        """The current end of the manifest: entries before the run are not ours."""
        async with httpx.AsyncClient(base_url=self._url, timeout=30) as client:
            cursor = 0
            while True:
                body = (await self._get(client, cursor, 0)).json()
                if not body["entries"]:
                    return cursor
                cursor = int(body["next"])

    def stop(self, expected: set[tuple[str, str]]) -> None:
        self._expected = expected
        self._stop_at = self._clock()

    def _done(self) -> bool:
        if self._stop_at is None:
            return False
        if self._expected <= self.seen.first_seen.keys():
            return True
        return self._clock() - self._stop_at > self._drain

    async def run(self, cursor: int) -> None:
        async with httpx.AsyncClient(base_url=self._url, timeout=60) as client:
            while not self._done():
                try:
                    response = await self._get(client, cursor, 1.0)
                except httpx.TransportError as exc:
                    self.seen.errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.1)
                    continue
                if response.status_code != 200:
                    self.seen.errors[f"HTTP_{response.status_code}"] += 1
                    await asyncio.sleep(0.1)
                    continue
                now = self._clock()
                body = response.json()
                entries = body["entries"]
                self.seen.reads.append((now, len(entries)))
                for entry in entries:
                    self.seen.entries += 1
                    key = (entry["ebpCode"], entry["orderNo"])
                    if key not in self.seen.first_seen:
                        self.seen.first_seen[key] = now
                        self.seen.first_rules[key] = list(entry["rules"])
                        self.seen.first_decision[key] = entry["decision"]
                        self.seen.decisions[entry["decision"]] += 1
                        self.seen.rules.update(entry["rules"])
                cursor = int(body["next"])

    async def _get(self, client: httpx.AsyncClient, after: int, wait: float) -> httpx.Response:
        return await client.get(
            "/v1/manifest",
            params={"after": after, "limit": 1000, "wait": wait},
            headers={"Authorization": f"Bearer {self._key}"},
        )
