"""One operator decision on many bundles (``POST /v1/review/bulk``, the queue page's form):
release or reject each with the same reason.

Each bundle goes through ``engine.review.perform`` exactly as a single action does, in its own
transaction, with its own manifest entry, audit records, history event and receipt. One
bundle's refusal (a stale version, a state the action does not apply to, a bundle that is not
there) is that bundle's outcome and does not stop the others. What is wrong with the request
as a whole (the action, the reason, the list) is refused before the first bundle, changing
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from service.engine import review
from service.errors import ActionNotAllowed, InvalidRequest, NotFound, VersionConflict
from service.security.keys import Caller
from service.store.database import Database

# Release and reject take a reason and apply to an open case; reopening stays one at a time.
BULK_ACTIONS = (review.Action.RELEASE, review.Action.REJECT)
# The largest queue page: what an operator can tick on one screen.
MAX_BUNDLES = 100


@dataclass(frozen=True, slots=True)
class Target:
    """A bundle as the operator saw it: its key and the version they decided on."""

    ebp_code: str
    order_no: str
    version: int


def check(action: str, reason: str | None, targets: Sequence[Target]) -> str:
    """The request as a whole, refused before anything is done; the reason as it is stored."""
    chosen = review.parse_action(action)
    if chosen not in BULK_ACTIONS:
        raise InvalidRequest("a bulk action is release or reject", field="action")
    why = review.clean_reason(reason)
    if not targets:
        raise InvalidRequest("no bundle was selected", field="bundles")
    if len(targets) > MAX_BUNDLES:
        raise InvalidRequest(f"at most {MAX_BUNDLES} bundles at once", field="bundles")
    return why


async def perform(
    db: Database,
    action: str,
    reason: str | None,
    targets: Sequence[Target],
    operator: Caller,
    on_commit: Callable[[], None],
) -> list[dict[str, Any]]:
    """Apply ``action`` to every target in turn; one outcome per target, in order."""
    check(action, reason, targets)
    outcomes: list[dict[str, Any]] = []
    for t in targets:
        key = {"ebpCode": t.ebp_code, "orderNo": t.order_no}
        try:
            done = await review.perform(
                db, t.ebp_code, t.order_no, action, reason, t.version, operator, on_commit
            )
        except (VersionConflict, ActionNotAllowed, NotFound, InvalidRequest) as exc:
            outcomes.append({**key, "outcome": "refused", **exc.problem()})
            continue
        outcomes.append(
            {
                **key,
                "outcome": "done",
                "action": done.action,
                "seq": done.seq,
                "state": done.state,
                "version": done.version,
                "auditId": done.audit_id,
            }
        )
    return outcomes
