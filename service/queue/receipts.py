"""Reading the receipts feed by cursor, with long poll (SPEC §10 "Decision receipts").

The same delivery promise as the manifest (``queue.manifest``): the receipts store
(``store.receipts``) is the feed, its gapless ``seq`` the cursor, a wake-up only a hint. Each
receipt is rendered here, as JSON or as its CEB return message, from the head fields stored
with it.

The XML form wraps one complete CEB message per receipt, each exactly what customs' mailbox
would deliver (valid against ``schemas/``) and named by a guid derived from its seq, so a
receipt read twice is the same message twice::

    <sandan:Receipts xmlns:sandan="urn:sandan:receipts" next="42">
      <sandan:Receipt seq="41">
        <ceb:CEB622Message guid="..." version="1.0" xmlns:ceb="...">...</ceb:CEB622Message>
      </sandan:Receipt>
    </sandan:Receipts>
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.messages.receipts import ReceiptItem, build_receipt
from service.messages.registry import MESSAGE_TYPES, MessageType
from service.queue.manifest import Notifier, long_poll
from service.store import receipts as feed
from service.store.database import Database

Row = dict[str, Any]

NAMESPACE = "urn:sandan:receipts"
# The message guids of the XML form: uuid5(this, seq).
_MESSAGE_GUIDS = uuid.UUID("0c8f6f3e-5b1d-4f7a-9a53-7d2e1c4b9e60")
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# A receipt root (CEB622Message) -> the message type it answers (CEB621Message).
_ANSWERING: dict[str, MessageType] = {t.receipt_root: t for t in MESSAGE_TYPES.values()}


def receipt_json(row: Row) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "messageType": row["message_type"],
        "guid": row["guid"],
        "invtNo": row["invt_no"],
        "returnStatus": row["return_status"],
        "returnTime": row["return_time"],
        "returnInfo": row["return_info"],
    }


def message_guid(seq: int) -> str:
    """The guid of the CEB message carrying receipt ``seq``: the same at every read."""
    return str(uuid.uuid5(_MESSAGE_GUIDS, str(seq))).upper()


def receipt_message(row: Row) -> bytes:
    """Receipt ``row`` as its CEB return message (UTF-8, with the XML declaration)."""
    message_type = _ANSWERING.get(row["message_type"])
    if message_type is None:
        raise LookupError(f"no receipt layout for {row['message_type']}")
    fields = dict(row["fields"])
    if row["invt_no"]:
        fields["invtNo"] = row["invt_no"]
    item = ReceiptItem(row["guid"], fields, row["return_status"], row["return_info"])
    return build_receipt(message_type, [item], row["return_time"], guid=message_guid(row["seq"]))


def receipts_xml(rows: Sequence[Row], next_seq: int) -> bytes:
    """The XML form of a page: each receipt's CEB message in a ``sandan:Receipt``."""
    parts = [_XML_DECLARATION, f'<sandan:Receipts xmlns:sandan="{NAMESPACE}" '.encode()]
    parts.append(f'next="{next_seq}">\n'.encode())
    for row in rows:
        # each message is complete: embedded as it is, without its own declaration
        message = receipt_message(row).removeprefix(_XML_DECLARATION)
        parts += [f'<sandan:Receipt seq="{int(row["seq"])}">\n'.encode(), message]
        parts.append(b"</sandan:Receipt>\n")
    parts.append(b"</sandan:Receipts>\n")
    return b"".join(parts)


class ReceiptsReader:
    def __init__(self, db: Database, notifier: Notifier, poll_interval: float) -> None:
        self._db = db
        # woken by this process's intake receipts and, through the manifest's notifier, by
        # its decisions and (on PostgreSQL) by other processes' commits of either
        self._notifier = notifier
        self._poll_interval = poll_interval

    @property
    def notifier(self) -> Notifier:
        """What wakes this feed's long polls (the PostgreSQL listener tells it of other
        processes' receipts)."""
        return self._notifier

    async def read(
        self, after: int, limit: int, wait: float, recipients: Collection[str]
    ) -> tuple[list[Row], int]:
        """Receipts after ``after`` issued to ``recipients``, waiting up to ``wait`` seconds;
        and the cursor to ask from next."""

        async def read(conn: AsyncConnection) -> list[Row]:
            return await feed.read_after(conn, after, limit, recipients)

        rows = await long_poll(self._db, self._notifier, self._poll_interval, wait, read)
        return rows, (int(rows[-1]["seq"]) if rows else after)
