"""After the decisions, the demo's platform cancels and its declaration agent takes back some
of what was declared (SPEC §10), so a newcomer sees every state and decision of the lifecycle:

- a released import is cancelled (撤单: its value goes back to the buyer's annual ledger, the
  warehouse gets a ``cancel`` entry), and so is a pending one (its deadline stops);
- one line of a released import is returned (退货: it stays released), and every line of
  another (it becomes ``returned``);
- when the demo has released exports: one is cancelled and one returned in full.

The consignments come from the traffic just played, read back over the API with the operator
key (state and invtNo); when that traffic lacks one (a short demo), a few more clean
consignments are played first.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from service.demo.consignments import DEMO_PARTIES, Consignment, clean_import
from service.demo.lifecycle import cancel_message, refund_message
from service.messages.registry import BUNDLE_KINDS, Kind

Planned = list[tuple[Consignment, list[Kind]]]
Send = Callable[[Planned], Awaitable[Any]]
# Who sends them: the platform cancels for its ebc, the declaration agent declares the return.
CANCEL_ROLE, CANCEL_CODE = "platform", DEMO_PARTIES.ebc.code
RETURN_ROLE, RETURN_CODE = "agent", DEMO_PARTIES.agent.code


@dataclass(frozen=True, slots=True)
class LifecycleDone:
    """One cancel or return the demo sent, and what became of it."""

    kind: str  # cancel | return
    consignment: Consignment
    invt_no: str
    state_before: str
    # gnum -> qty returned; None for a cancel or a return of everything
    returned: dict[int, Decimal] | None
    status: str
    errors: list[str]
    state_after: str
    value: str | None

    def describe(self) -> str:
        c = self.consignment
        side = "import" if c.direction == "I" else "export"
        if self.kind == "cancel":
            what = f"cancelled {self.state_before} {side} {c.key[1]}"
        elif self.returned is None:
            what = f"returned every line of {side} {c.key[1]}"
        else:
            lines = ", ".join(f"line {g} ×{format(q, 'f')}" for g, q in self.returned.items())
            what = f"returned {lines} of {side} {c.key[1]}"
        if self.status != "accepted":
            return f"{what} (invtNo {self.invt_no}): {self.status} {' '.join(self.errors)}"
        value = f", value {self.value}" if self.value else ""
        return f"{what} (invtNo {self.invt_no}): {self.status}{value}, now {self.state_after}"


async def _bundle(
    client: httpx.AsyncClient, keys: dict[str, str], c: Consignment
) -> dict[str, Any] | None:
    response = await client.get(
        f"/v1/bundles/{c.key[0]}/{c.key[1]}",
        headers={"Authorization": f"Bearer {keys['operator']}"},
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _partly_returnable(c: Consignment) -> dict[int, Decimal] | None:
    """What "one line" of ``c`` is: the first line in full when there are several, else one
    unit of a line of more than one; None when the consignment has a single unit."""
    lines = c.inventory_lines
    if len(lines) > 1:
        return {int(lines[0]["gnum"]): Decimal(lines[0]["qty"])}
    if lines and Decimal(lines[0]["qty"]) > 1:
        return {int(lines[0]["gnum"]): Decimal(1)}
    return None


@dataclass(frozen=True, slots=True)
class Step:
    """What the demo does to one consignment of ``direction`` in ``state``; ``part``: return
    one line only (it needs a consignment of more than one unit)."""

    kind: str  # cancel | return
    direction: str
    state: str
    part: bool = False

    def fits(self, c: Consignment, bundle: dict[str, Any]) -> bool:
        return (
            c.direction == self.direction
            and bundle["state"] == self.state
            and bool(bundle.get("invtNo"))
            and (not self.part or _partly_returnable(c) is not None)
        )


# The partial return picks first: it is the step with a condition.
STEPS = (
    Step("return", "I", "released", part=True),
    Step("return", "I", "released"),
    Step("cancel", "I", "released"),
    Step("cancel", "I", "pending"),
    Step("cancel", "E", "released"),
    Step("return", "E", "released"),
)

Found = list[tuple[Consignment, dict[str, Any]]]
Picks = dict[Step, tuple[Consignment, dict[str, Any]]]


def _pick(found: Found, steps: tuple[Step, ...], picks: Picks) -> None:
    """A consignment for each step that has none in ``picks`` yet, none used twice."""
    used = {c.key for c, _ in picks.values()}
    for step in steps:
        if step in picks:
            continue
        for c, bundle in found:
            if c.key not in used and step.fits(c, bundle):
                picks[step] = (c, bundle)
                used.add(c.key)
                break


def _extra_imports(rng: random.Random, first_number: int) -> Planned:
    """Clean imports enough for every import step: three to be released (the first of more
    than one unit, for the partial return) and one left pending (no payment voucher)."""
    number = first_number
    first = clean_import(rng, number, regime="9610")
    while _partly_returnable(first) is None:
        number += 1
        first = clean_import(rng, number, regime="9610")
    out: Planned = [(first, list(BUNDLE_KINDS))]
    for n in (number + 1, number + 2):
        out.append((clean_import(rng, n, regime="9610"), list(BUNDLE_KINDS)))
    pending = clean_import(rng, number + 3, regime="1210")
    out.append((pending, [k for k in BUNDLE_KINDS if k is not Kind.PAYMENT]))
    return out


async def play_lifecycle(
    url: str,
    keys: dict[str, str],
    planned: Planned,
    rng: random.Random,
    send: Send,
) -> list[LifecycleDone]:
    """Cancel and return some of ``planned`` (already played and decided); ``send`` plays
    more consignments when they lack one for an import step."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def read(consignments: list[Consignment]) -> Found:
            pairs = [(c, await _bundle(client, keys, c)) for c in consignments]
            return [(c, b) for c, b in pairs if b is not None]

        found = await read([c for c, _ in planned])
        rng.shuffle(found)
        picks: Picks = {}
        _pick(found, STEPS, picks)
        if any(step.direction == "I" and step not in picks for step in STEPS):
            numbers = [int(c.key[1][-8:]) for c, _ in planned]
            extra = _extra_imports(rng, max(numbers, default=0) + 1)
            await send(extra)
            _pick(await read([c for c, _ in extra]), STEPS, picks)
        return [await _act(client, keys, step, *picks[step]) for step in STEPS if step in picks]


async def _act(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    step: Step,
    c: Consignment,
    bundle: dict[str, Any],
) -> LifecycleDone:
    invt_no = str(bundle["invtNo"])
    returned = _partly_returnable(c) if step.part else None
    if step.kind == "cancel":
        role, body = CANCEL_ROLE, cancel_message(c, invt_no, CANCEL_CODE)
    else:
        role, body = RETURN_ROLE, refund_message(c, invt_no, RETURN_CODE, returned)
    response = await client.post(
        "/v1/messages",
        content=body,
        headers={"Authorization": f"Bearer {keys[role]}", "Content-Type": "application/xml"},
    )
    response.raise_for_status()
    (answer,) = response.json()["documents"]
    after = await _bundle(client, keys, c) or bundle
    returns = after.get("returns") or []
    return LifecycleDone(
        step.kind,
        c,
        invt_no,
        bundle["state"],
        returned,
        answer["status"],
        [e["code"] for e in answer.get("errors", ())],
        after["state"],
        returns[-1]["value"] if step.kind == "return" and returns else None,
    )
