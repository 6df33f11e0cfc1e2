"""``sandan demo``: seed demo enterprises and keys, then play mixed traffic of every regime.

Documents of each consignment arrive in shuffled order, one kind per sender as in real life;
about a third of the consignments carry one realistic mistake, a few miss a document (they
become MISSING_* exceptions at the deadline). The manifest fills as bundles complete. Then
some consignments are cancelled and returned (``service.demo.lifecycle_play``), and some
exports arrive and depart, reaching ``closed`` (``service.demo.movement_play``).
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from service.client import SandanClient
from service.config import Settings
from service.demo.consignments import DEMO_PARTIES, Consignment, clean_import, message_of
from service.demo.exports import EXPORT_MISMATCHES, clean_export, kinds_to_send, with_export_mistake
from service.demo.lifecycle_play import play_lifecycle
from service.demo.mistakes import MISMATCHES, with_mistake
from service.demo.movement_play import play_movement
from service.demo.summary_play import play_summary
from service.messages.registry import Kind, Role
from service.security.keys import Caller
from service.security.provision import create_api_key


@dataclass(frozen=True, slots=True)
class DemoKey:
    role: str
    codes: tuple[str, ...]
    name: str


DEMO_KEYS = (
    DemoKey("platform", (DEMO_PARTIES.platform.code, DEMO_PARTIES.ebc.code), "demo platform"),
    DemoKey("payment", (DEMO_PARTIES.payment.code,), "demo payment company"),
    DemoKey("logistics", (DEMO_PARTIES.carrier.code,), "demo carrier"),
    DemoKey("agent", (DEMO_PARTIES.agent.code,), "demo customs broker"),
    DemoKey("operator", ("2924",), "demo operator"),
    DemoKey("warehouse", (DEMO_PARTIES.carrier.code, DEMO_PARTIES.zone.code), "demo warehouse"),
)
# Who sends each kind, as the key store resolves the demo's keys (for in-process pipelines:
# tests and the engine benchmark).
P = DEMO_PARTIES
DEMO_CALLERS: dict[Kind, Caller] = {
    Kind.ORDER: Caller(
        1, P.platform.code, frozenset({P.platform.code, P.ebc.code}), frozenset({Role.PLATFORM})
    ),
    Kind.PAYMENT: Caller(2, P.payment.code, frozenset({P.payment.code}), frozenset({Role.PAYMENT})),
    Kind.LOGISTICS: Caller(
        3, P.carrier.code, frozenset({P.carrier.code}), frozenset({Role.LOGISTICS})
    ),
    Kind.INVENTORY: Caller(4, P.agent.code, frozenset({P.agent.code}), frozenset({Role.AGENT})),
}
KIND_ROLE = {
    Kind.ORDER: "platform",
    Kind.PAYMENT: "payment",
    Kind.LOGISTICS: "logistics",
    Kind.INVENTORY: "agent",
}


# (direction, regime) of every variant the demo plays, with its share of the traffic
VARIANTS = [
    (("I", "9610"), 0.30),
    (("I", "1210"), 0.25),
    (("E", "9610"), 0.15),
    (("E", "1210"), 0.10),
    (("E", "9710"), 0.10),
    (("E", "9810"), 0.10),
]


def _consignment(rng: random.Random, n: int) -> tuple[Consignment, dict[str, Callable[..., Any]]]:
    (direction, regime), *_ = rng.choices(
        [v for v, _ in VARIANTS], weights=[w for _, w in VARIANTS]
    )
    if direction == "I":
        return clean_import(rng, n, regime=regime), {code: with_mistake for code in MISMATCHES}
    mistakes = {
        code: with_export_mistake
        for code in EXPORT_MISMATCHES
        if (code != "REGIME_FIELDS" or regime == "1210")
        and (code != "EXPORT_RECEIPT_AMOUNT" or regime != "9810")
    }
    return clean_export(rng, n, regime=regime), mistakes


def plan(rng: random.Random, count: int) -> list[tuple[Consignment, list[Kind]]]:
    """Consignments of all six regime variants with the kinds to send for each: about a
    third carry one mistake, a few withhold a required document."""
    out: list[tuple[Consignment, list[Kind]]] = []
    for n in range(1, count + 1):
        consignment, mistakes = _consignment(rng, n)
        roll = rng.random()
        if roll < 0.35:
            code = rng.choice(sorted(mistakes))
            consignment = mistakes[code](consignment, code)
        kinds = kinds_to_send(consignment)
        if 0.35 <= roll < 0.42:
            kinds.remove(rng.choice(kinds))
        out.append((consignment, kinds))
    return out


async def play(
    url: str,
    keys: dict[str, str],
    consignments: list[tuple[Consignment, list[Kind]]],
    rng: random.Random,
) -> Counter[str]:
    """Post every planned document, shuffled across consignments; count the answers."""
    sends = [(c, kind) for c, kinds in consignments for kind in kinds]
    rng.shuffle(sends)
    statuses: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for consignment, kind in sends:
            response = await client.post(
                "/v1/messages",
                content=message_of([consignment], kind),
                headers={
                    "Authorization": f"Bearer {keys[KIND_ROLE[kind]]}",
                    "Content-Type": "application/xml",
                },
            )
            response.raise_for_status()
            for doc in response.json()["documents"]:
                statuses[doc["status"]] += 1
    return statuses


class ServerMissing(Exception):
    """No server to play at, or one that does not share the demo's database."""


def wait_for_server(url: str, wait: float, *, every: float = 0.5) -> None:
    """Return once ``url`` answers ``/healthz``; ``ServerMissing`` after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    told = False
    with SandanClient(url, key=None) as client:
        while not client.healthy():
            if time.monotonic() >= deadline:
                raise ServerMissing(
                    f"no Sandan server answers at {url} (waited {wait:g} s): start one with "
                    "./scripts/serve (or sandan serve), or give its address with --url"
                )
            if not told:
                print(
                    f"waiting up to {wait:g} s for the Sandan server at {url} ...", file=sys.stderr
                )
                told = True
            time.sleep(every)


async def _check_keys(url: str, key: str, settings: Settings) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.get(
            "/v1/manifest", params={"limit": 1}, headers={"Authorization": f"Bearer {key}"}
        )
    if response.status_code == 401:
        raise ServerMissing(
            f"the server at {url} does not know the keys just made in {settings.database_url}: "
            "run sandan demo with the server's SANDAN_DATABASE_URL"
        )
    response.raise_for_status()


async def run_demo(settings: Settings, url: str, count: int, seed: int) -> int:
    keys: dict[str, str] = {}
    print("demo keys (each shown once):")
    for demo_key in DEMO_KEYS:
        key = await create_api_key(settings, list(demo_key.codes), [demo_key.role], demo_key.name)
        keys[demo_key.role] = key
        print(f"  {demo_key.role:<10} {' '.join(demo_key.codes):<22} {key}")
    await _check_keys(url, keys["operator"], settings)
    rng = random.Random(seed)
    planned = plan(rng, count)
    statuses = await play(url, keys, planned, rng)

    async def send_more(extra: list[tuple[Consignment, list[Kind]]]) -> None:
        statuses.update(await play(url, keys, extra, rng))

    after = await play_lifecycle(url, keys, planned, rng, send_more)
    summary = await play_summary(url, keys)
    moved = await play_movement(url, keys, planned)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        manifest = (
            await client.get(
                "/v1/manifest",
                params={"after": 0, "limit": 1000},
                headers={"Authorization": f"Bearer {keys['operator']}"},
            )
        ).json()
    decisions = Counter(e["decision"] for e in manifest["entries"])
    by_regime = Counter((e["direction"], e["regime"], e["decision"]) for e in manifest["entries"])
    rules = Counter(code for e in manifest["entries"] for code in e["rules"])
    print(f"posted {sum(statuses.values())} documents: {dict(statuses)}")
    print(f"manifest now holds {len(manifest['entries'])} entries: {dict(decisions)}")
    for (direction, regime), _ in VARIANTS:
        shown = {d: by_regime[(direction, regime, d)] for d in ("release", "exception")}
        label = "import" if direction == "I" else "export"
        print(f"  {label} {regime}: {shown['release']} released, {shown['exception']} exceptions")
    print("after the decisions: cancels (撤单) and returns (退货), SPEC §10")
    for done in after:
        print(f"  {done.describe()}")
    print("the export summary (汇总申报) of today's released export lists, SPEC §10")
    print(f"  {summary.describe()}")
    if summary.sum_no:
        print(
            f"  curl -s -H 'Authorization: Bearer {keys['platform']}' "
            f"'{url}/v1/summaries/{summary.sum_no}'"
        )
    if moved:
        print("exports on their way: master bill, arrival (运抵), departure (离境 = 结关)")
        for step in moved:
            print(f"  {step.describe()}")
    if rules:
        print("rules seen: " + ", ".join(f"{code}×{n}" for code, n in rules.most_common()))
    print(
        "consignments still missing a document become MISSING_* exceptions at the server's "
        "deadline (SANDAN_BUNDLE_DEADLINE_SECONDS after their first document)"
    )
    print("watch the manifest as a warehouse:")
    print(
        f"  curl -s -H 'Authorization: Bearer {keys['warehouse']}' "
        f"'{url}/v1/manifest?after=0&limit=20'"
    )
    return 0
