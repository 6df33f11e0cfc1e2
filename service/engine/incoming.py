"""What intake hands to the store, and what it answers per document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.messages.documents import Document
from service.messages.registry import MessageType


@dataclass(frozen=True, slots=True)
class IncomingDocument:
    """A document that passed every check that needs no database (schema, sender)."""

    message_type: MessageType
    message_guid: str
    document: Document
    digest: str
    raw_xml: str
    # absent | unverified | verified (SPEC §11), and the certificate a verified one names
    signature: str
    signature_serial: str | None = None


@dataclass(slots=True)
class Outcome:
    """The answer for one document (SPEC §6.1)."""

    status: str  # accepted | duplicate | rejected
    return_status: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    # The 清单编号 of the consignment an accepted inventory or lifecycle document is for
    # (SPEC §10): in the answer's key and the receipt.
    invt_no: str | None = None
    # The 汇总申请编号 Sandan gave an accepted summary (CEB701, SPEC §10).
    sum_no: str | None = None

    @classmethod
    def accepted(cls) -> Outcome:
        return cls("accepted", RETURN_ACCEPTED)

    @classmethod
    def accepted_with(cls, invt_no: str | None) -> Outcome:
        """Accepted, for the consignment of ``invt_no`` (an inventory or lifecycle document)."""
        return cls("accepted", RETURN_ACCEPTED, invt_no=invt_no)

    @classmethod
    def rejected(
        cls, code: str, message: str, path: str | None = None, return_status: str | None = None
    ) -> Outcome:
        error: dict[str, Any] = {"code": code, "message": message}
        if path is not None:
            error["path"] = path
        return cls("rejected", return_status or RETURN_REJECTED, [error])


# Customs' vocabulary (SPEC §2): 120 entered / logic check passed, 100 rejected (退单), and
# negative numbers for documents that could not be processed at all.
RETURN_ACCEPTED = "120"
RETURN_REJECTED = "100"
RETURN_UNPROCESSABLE = "-1"
