"""The rows of the receipts feed (SPEC §10 "Decision receipts"): what Sandan tells each sender.

Two kinds, each issued (``store.receipts.issue_many``) in the transaction of what causes it,
so a receipt exists exactly when its cause committed:

- **intake receipts**, one per document of a message that got an outcome of its own (accepted
  ``120``, rejected ``100`` / ``-1``), to the sending key's code, in the intake batch that
  stored or refused the document. A replay adds none: it is answered with the original
  receipt. Documents refused before the batch (schema, sender, signature) ride along with the
  batch for their receipt only; their document is never stored. An accepted cancel or return
  is applied in the same transaction, so its ``399`` 审结 follows its ``120`` at once.
- **decision receipts** (CEB622 / CEB604) to the sender of the bundle's inventory: ``800``
  放行 on a release, ``100`` 退单 on an exception, by the engine or by an operator; ``899``
  结关 when a departure closes an export list.

A row keeps the head fields the receipt echoes, not its XML: the CEB message is rendered when
the feed is read (``queue.receipts``), off the intake path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.engine.incoming import RETURN_REJECTED, Outcome
from service.engine.prepare import DocumentResult
from service.messages.documents import Inventory
from service.messages.receipts import (
    RETURN_INFO_MAX,
    STATUS_TEXT,
    ReceiptItem,
    format_return_time,
    receipt_guid,
)
from service.messages.registry import MESSAGE_TYPES, Direction, Kind, MessageType

Row = dict[str, Any]

RETURN_RELEASED = "800"
RETURN_CONCLUDED = "399"
RETURN_CLOSED = "899"
# Documents applied with their acceptance (SPEC §10): their receipts say 120, then 399.
_APPLIED_AT_ONCE = frozenset({Kind.CANCEL, Kind.RETURN, Kind.SUMMARY})
# A receipt row's echoed values are cut here: the receipt layouts take 60 at most, and a
# rejected document's fields are whatever the sender wrote.
_FIELD_MAX = 100

# The inventory receipt of each direction (CEB622Message, CEB604Message).
_INVENTORY_TYPES: dict[Direction, MessageType] = {
    Direction.IMPORT: MESSAGE_TYPES["CEB621Message"],
    Direction.EXPORT: MESSAGE_TYPES["CEB603Message"],
}


def return_info(outcome: Outcome) -> str:
    """A document's ``returnInfo`` as its intake receipt says it (XML answer and feed)."""
    if outcome.status == "accepted":
        return "入库成功 accepted"
    if outcome.status == "duplicate":
        return "重复申报，返回原回执 duplicate of an accepted document"
    return "; ".join(_error_text(e) for e in outcome.errors)


def _error_text(error: dict[str, Any]) -> str:
    """One error as the XML receipt's returnInfo says it: what the JSON answer says, the
    signature's serial and algorithm URIs included (a sender reading only CEB receipts must
    learn as much)."""
    text = f"{error['code']}{' ' + error['path'] if error.get('path') else ''}: {error['message']}"
    extra = [f"serial {error['serial']}"] if error.get("serial") else []
    extra += [f"{name} {uri}" for name, uri in (error.get("algorithms") or {}).items()]
    return text + (f" ({'; '.join(extra)})" if extra else "")


def _row(
    recipient: str,
    message_type: MessageType,
    guid: str,
    fields: dict[str, str],
    return_status: str,
    info: str,
    now: datetime,
    *,
    invt_no: str | None = None,
    bundle_id: int | None = None,
    return_time: str | None = None,
) -> Row:
    """A ``receipts`` row with the values its XML will carry: the guid and the returnInfo
    as ``build_receipt`` writes them, so the JSON and the XML form say the same."""
    return {
        "recipient": recipient,
        "message_type": message_type.receipt_root,
        "guid": receipt_guid(guid),
        "invt_no": invt_no,
        "bundle_id": bundle_id,
        "return_status": return_status,
        "return_time": return_time or format_return_time(now),
        "return_info": (info.strip() or STATUS_TEXT.get(return_status, return_status))[
            :RETURN_INFO_MAX
        ],
        "fields": _echoed(fields),
        "created_at": now,
    }


def _echoed(fields: dict[str, str]) -> dict[str, str]:
    """The fields a row keeps: all but the guid, each cut at ``_FIELD_MAX`` (copied only
    when one is too long: on the intake path, once per document)."""
    out = dict(fields)
    out.pop("guid", None)
    if any(len(v) > _FIELD_MAX for v in out.values()):
        out = {k: v[:_FIELD_MAX] for k, v in out.items()}
    return out


@dataclass(frozen=True, slots=True)
class IntakeReceipts:
    """The intake receipts of one posted message, for the batch that stores it.

    ``results``: every document of the message in its order (those refused before the batch
    with their outcome set); ``stored``: the indexes of the ones handed to the batch, in the
    order they were handed over.
    """

    message_type: MessageType
    results: Sequence[DocumentResult]
    stored: Sequence[int]

    def rows(self, sender: str, outcomes: Sequence[Outcome], now: datetime) -> list[Row]:
        """One row per document that got an outcome of its own (two for an accepted cancel or
        return), in the message's order; ``outcomes``: the batch's, for the ``stored``
        documents."""
        decided = dict(zip(self.stored, outcomes, strict=True))
        return_time = format_return_time(now)
        out: list[Row] = []
        for index, result in enumerate(self.results):
            outcome = decided.get(index, result.outcome)
            if outcome.status == "duplicate":
                continue
            statuses = [(outcome.return_status, return_info(outcome))]
            if outcome.status == "accepted" and self.message_type.kind in _APPLIED_AT_ONCE:
                statuses.append((RETURN_CONCLUDED, f"{STATUS_TEXT[RETURN_CONCLUDED]} applied"))
            fields = result.receipt_fields
            if outcome.sum_no:  # a summary's CEB702 names the sumNo it was given
                fields = {**fields, "sumNo": outcome.sum_no}
            out += [
                _row(
                    sender,
                    self.message_type,
                    result.guid,
                    fields,
                    status,
                    info,
                    now,
                    invt_no=outcome.invt_no,
                    return_time=return_time,
                )
                for status, info in statuses
            ]
        return out


def decision_receipt(
    inventory: Inventory,
    sender: str,
    bundle: Row,
    decision: str,
    rules: Sequence[str],
    now: datetime,
    *,
    operator: bool = False,
) -> Row | None:
    """The receipt a decision gives the inventory's ``sender``: ``800`` for a release, ``100``
    for an exception or a reject (naming the rules), ``899`` for a departure's close; None
    for any other decision."""
    named = f": {', '.join(rules)}" if rules else ""
    by = " (人工审核 operator)" if operator else ""
    if decision == "release":
        status, info = RETURN_RELEASED, f"{STATUS_TEXT[RETURN_RELEASED]} released{by}{named}"
    elif decision in ("exception", "reject"):
        status, info = RETURN_REJECTED, f"{STATUS_TEXT[RETURN_REJECTED]}{by}{named}"
    elif decision == "close":
        status, info = RETURN_CLOSED, f"{STATUS_TEXT[RETURN_CLOSED]} closed (离境 departed)"
    else:
        return None
    item = ReceiptItem.from_document(inventory, status, info)
    return _row(
        sender,
        _INVENTORY_TYPES[inventory.direction],
        inventory.guid,
        dict(item.fields),
        status,
        info,
        now,
        invt_no=bundle.get("invt_no"),
        bundle_id=int(bundle["id"]),
    )
