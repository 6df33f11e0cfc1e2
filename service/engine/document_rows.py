"""A new ``documents`` row of an incoming document: one builder for intake and for the
documents that act on bundles after their decision (lifecycle, movement)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.engine.incoming import IncomingDocument

Row = dict[str, Any]


def document_values(sender: str, inc: IncomingDocument, now: datetime, **values: Any) -> Row:
    """A new ``documents`` row for ``inc`` sent by ``sender``: its keys as the document names
    them, accepted (``120``) at ``now``; ``values`` set the rest (``bundle_id``, ``status``)
    or replace what the document says."""
    doc = inc.document
    return {
        "sender": sender,
        "kind": doc.kind.value,
        "guid": doc.guid,
        "digest": inc.digest,
        "direction": doc.direction.value,
        "message_type": inc.message_type.root,
        "message_guid": inc.message_guid,
        "app_type": doc.appType,
        "app_time": doc.appTime,
        "ebp_code": getattr(doc, "ebpCode", None),
        "order_no": getattr(doc, "orderNo", None),
        "logistics_code": getattr(doc, "logisticsCode", None),
        "logistics_no": getattr(doc, "logisticsNo", None),
        "data": doc.to_json(),
        "raw_xml": inc.raw_xml,
        "signature": inc.signature,
        "signature_serial": inc.signature_serial,
        "return_status": "120",
        "received_at": now,
        **values,
    }
