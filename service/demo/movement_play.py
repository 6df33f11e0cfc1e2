"""After the cancels and returns, the demo moves some released exports (SPEC §10), so a
newcomer sees a consignment reach ``closed`` (结关):

- the declaration agent ties up to three released 9610 / 9710 / 9810 exports to one bill of
  lading (清单总分单 CEB607),
- the supervised site reports the whole bill arrived (运抵单 CEB507 without lines),
- the carrier reports all but the last departed (离境单 CEB509): those become ``closed``, with
  a ``close`` manifest entry and an ``899`` receipt for the agent; the last stays released,
  arrived but not departed.

The consignments come from the traffic just played, read back with the operator key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from service.demo.consignments import DEMO_PARTIES, Consignment
from service.demo.movement import arrival_message, departure_message, master_bill_message

P = DEMO_PARTIES
BILL_NO = "SANDAN-DEMO-0001"
_SENDERS = {"masterbill": "agent", "arrival": "warehouse", "departure": "logistics"}


@dataclass(frozen=True, slots=True)
class MovementDone:
    kind: str  # masterbill | arrival | departure
    status: str
    errors: list[str]
    states: list[tuple[str, str]]  # (orderNo, state after)

    def describe(self) -> str:
        what = {
            "masterbill": f"master bill {BILL_NO} ties",
            "arrival": f"whole bill {BILL_NO} arrived:",
            "departure": "departed:",
        }[self.kind]
        listed = ", ".join(f"{order_no} now {state}" for order_no, state in self.states)
        if self.status != "accepted":
            return f"{what} {listed}: {self.status} {' '.join(self.errors)}"
        return f"{what} {listed}"


async def play_movement(
    url: str, keys: dict[str, str], planned: list[tuple[Consignment, Any]]
) -> list[MovementDone]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def bundle(c: Consignment) -> dict[str, Any] | None:
            response = await client.get(
                f"/v1/bundles/{c.key[0]}/{c.key[1]}",
                headers={"Authorization": f"Bearer {keys['operator']}"},
            )
            if response.status_code == 404:
                return None
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        chosen: list[tuple[Consignment, str]] = []
        for c, _ in planned:
            if c.direction != "E" or c.logistics.get("logisticsCode") != P.carrier.code:
                continue
            found = await bundle(c)
            if found is not None and found["state"] == "released" and found.get("invtNo"):
                chosen.append((c, str(found["invtNo"])))
            if len(chosen) == 3:
                break
        if not chosen:
            return []
        consignments = [c for c, _ in chosen]
        departing = consignments[:-1] if len(consignments) > 1 else consignments
        steps = [
            (
                "masterbill",
                master_bill_message(
                    consignments,
                    {c.key: invt_no for c, invt_no in chosen},
                    (P.agent.code, P.agent.name),
                    bill_no=BILL_NO,
                ),
                consignments,
            ),
            (
                "arrival",
                arrival_message(
                    consignments,
                    (P.carrier.code, P.carrier.name),
                    bill_no=BILL_NO,
                    whole_bill=True,
                ),
                consignments,
            ),
            ("departure", departure_message(departing, bill_no=BILL_NO), departing),
        ]
        done = []
        for kind, body, named in steps:
            response = await client.post(
                "/v1/messages",
                content=body,
                headers={
                    "Authorization": f"Bearer {keys[_SENDERS[kind]]}",
                    "Content-Type": "application/xml",
                },
            )
            response.raise_for_status()
            (answer,) = response.json()["documents"]
            states = []
            for c in named:
                after = await bundle(c)
                states.append((c.key[1], str(after["state"]) if after else "?"))
            done.append(
                MovementDone(
                    kind,
                    answer["status"],
                    [e["code"] for e in answer.get("errors", ())],
                    states,
                )
            )
        return done
