"""Everything about a posted message that needs no database: parse, type, role, schema,
sender scoping, extraction, masking. Only documents that passed all of it reach the
transaction, so a bad document costs no database work and changes nothing.

Pure CPU on its inputs (the body and the caller), so it can run in a worker process
(``engine.prepare_pool``): what it returns and what it raises pickle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from service.clock import utcnow
from service.engine.incoming import (
    RETURN_REJECTED,
    RETURN_UNPROCESSABLE,
    IncomingDocument,
    Outcome,
)
from service.errors import EmptyMessage, Forbidden, UnknownMessageType
from service.messages.documents import Protector
from service.messages.extract import PII_ELEMENTS, Personal, PiiMemo, read_document
from service.messages.head_values import head_value_errors
from service.messages.lenient import KEY_FIELDS, lenient_fields
from service.messages.parse import parse_message
from service.messages.receipts import receipt_fields
from service.messages.registry import CEB_NS, MessageType, message_type_for
from service.messages.schema import SchemaChecker, SchemaError
from service.rules.idcard import gb11643_valid
from service.security.certificates import RegisteredCertificate
from service.security.keys import Caller
from service.security.masking import scrub
from service.security.pii import PiiProtector
from service.security.signature_policy import (
    SignaturePolicy,
    SignatureRejected,
    SignatureVerdict,
    judge_signature,
)


@dataclass(slots=True)
class DocumentResult:
    guid: str
    kind: str
    key: dict[str, str]
    outcome: Outcome
    # Head fields the customs receipt echoes (read leniently: the document may be invalid).
    receipt_fields: dict[str, str]


_QUOTED = re.compile(r"'[^']*'")
_LAST_STEP = re.compile(r"([A-Za-z]+)(?:\[\d+\])?$")


def _safe_message(error: SchemaError) -> str:
    """A schema error's text without personal data: answers and receipts end up in logs.

    The validator quotes the offending value; for a personal-data element the value is
    dropped, and anything elsewhere that looks like an ID or mobile number is masked.
    """
    step = _LAST_STEP.search(error.path)
    message = error.message
    if step is not None and step.group(1) in PII_ELEMENTS:
        message = _QUOTED.sub("(personal data not shown)", message)
    return scrub(message)


@dataclass(slots=True)
class Prepared:
    message_type: MessageType
    message_guid: str
    results: list[DocumentResult]
    # index in ``results`` -> the document to store
    incoming: dict[int, IncomingDocument]


class Preparer:
    def __init__(
        self,
        checker: SchemaChecker,
        protect: Protector,
        max_message_bytes: int,
        signature_policy: SignaturePolicy = "registered",
    ) -> None:
        self._checker = checker
        self._protect = protect
        self._max_bytes = max_message_bytes
        self._policy: SignaturePolicy = signature_policy

    def prepare(
        self,
        body: bytes,
        caller: Caller,
        certificates: Sequence[RegisteredCertificate] = (),
        now: datetime | None = None,
    ) -> Prepared:
        """``certificates``: those registered for the caller's codes (revoked and expired
        ones included); ``now``: the time of receipt, against which they are valid."""
        root = parse_message(body, self._max_bytes)
        message_type = message_type_for(root.tag if isinstance(root.tag, str) else "")
        if message_type is None:
            raise UnknownMessageType(f"unsupported message type {etree.QName(root).localname}")
        if not caller.has_any(message_type.roles):
            raise Forbidden(
                f"{message_type.root} needs one of the roles "
                f"{', '.join(sorted(message_type.roles))}"
            )
        cop_code = root.findtext(f"{{{CEB_NS}}}BaseTransfer/{{{CEB_NS}}}copCode")
        try:
            # before the schema: a missing signature is never reported as SCHEMA_INVALID
            signature = judge_signature(
                root, message_type, cop_code, certificates, self._policy, now or utcnow()
            )
        except SignatureRejected as rejected:
            return _all_rejected(message_type, root, rejected.error)
        check = self._checker.check(message_type, root)
        if not check.documents:
            raise EmptyMessage(
                f"{message_type.root} holds no {message_type.document} document",
                errors=[e.to_json() for errs in check.errors.values() for e in errs],
            )
        prepared = Prepared(message_type, root.get("guid", ""), [], {})
        # Per message: each personal value is protected once, for its document and its mask.
        protect = PiiMemo(self._protect)
        for index, element in enumerate(check.documents):
            result, incoming = self._prepare_document(
                message_type,
                element,
                check.errors.get(index) or head_value_errors(message_type, element, index),
                caller,
                cop_code,
                signature,
                prepared.message_guid,
                protect,
            )
            if incoming is not None:
                prepared.incoming[len(prepared.results)] = incoming
            prepared.results.append(result)
        return prepared

    def _prepare_document(
        self,
        message_type: MessageType,
        element: etree._Element,
        errors: list[SchemaError] | None,
        caller: Caller,
        cop_code: str | None,
        signature: SignatureVerdict,
        message_guid: str,
        protect: PiiMemo,
    ) -> tuple[DocumentResult, IncomingDocument | None]:
        kind = message_type.kind.value
        if errors or not caller.acts_for(cop_code):
            # Refused before reading: answered from what is readable of its head.
            result = _unread(message_type, element)
            if errors:
                result.outcome = Outcome(
                    "rejected",
                    RETURN_UNPROCESSABLE,
                    [
                        {"code": "SCHEMA_INVALID", "path": e.path, "message": _safe_message(e)}
                        for e in errors
                    ],
                )
            else:
                result.outcome = Outcome.rejected(
                    "SENDER_MISMATCH",
                    f"BaseTransfer/copCode {cop_code} is not one this key acts for",
                    path=f"/{message_type.root}/BaseTransfer/copCode",
                )
            return result, None
        # Schema-valid: one pass gives the key, the receipt fields (read as leniently as
        # above), the typed document, the digest and the personal data to mask.
        reading = read_document(message_type, element, protect)
        receipt = reading.receipt_fields
        result = DocumentResult(
            receipt.get("guid", ""), kind, reading.key, Outcome.accepted(), receipt
        )
        document = reading.document
        parties = [getattr(document, name, None) for name in message_type.party_fields]
        if not any(caller.acts_for(code) for code in parties):
            named = " / ".join(
                f"{name} {code}"
                for name, code in zip(message_type.party_fields, parties, strict=True)
            )
            result.outcome = Outcome.rejected(
                "SENDER_MISMATCH", f"{named}: not an enterprise this key acts for"
            )
            return result, None
        incoming = IncomingDocument(
            message_type=message_type,
            message_guid=message_guid,
            document=document,
            digest=reading.digest,
            raw_xml=_masked_xml(element, reading.personal),
            signature=signature.status,
            signature_serial=signature.serial,
        )
        return result, incoming


def _unread(message_type: MessageType, element: etree._Element) -> DocumentResult:
    """The answer for a document refused before reading, from what is readable of its head
    (it may be schema-invalid); its outcome is for the caller to set."""
    key = lenient_fields(message_type, element, KEY_FIELDS[message_type.kind.value])
    receipt = receipt_fields(message_type, element)  # with the guid
    return DocumentResult(
        receipt.get("guid", ""), message_type.kind.value, key, Outcome.accepted(), receipt
    )


def _all_rejected(
    message_type: MessageType, root: etree._Element, error: dict[str, Any]
) -> Prepared:
    """Every document of the message rejected with the same ``error`` (a signature that is
    missing or does not verify), read without the schema's verdict."""
    tag = f"{{{CEB_NS}}}{message_type.document}"
    documents = [child for child in root if child.tag == tag]
    if not documents:
        raise EmptyMessage(
            f"{message_type.root} holds no {message_type.document} document", errors=[error]
        )
    prepared = Prepared(message_type, root.get("guid", ""), [], {})
    for element in documents:
        result = _unread(message_type, element)
        result.outcome = Outcome("rejected", RETURN_REJECTED, [dict(error)])
        prepared.results.append(result)
    return prepared


def _masked_xml(element: etree._Element, personal: list[Personal]) -> str:
    """The document's XML with personal data masked (``personal``: from its reading).

    The masked texts are put in place only for serialising and the originals restored
    after, which costs far less than serialising a deep copy.
    """
    try:
        for node, _, masked in personal:
            node.text = masked
        xml: str = etree.tostring(element, encoding="unicode")
    finally:
        for node, text, _ in personal:
            node.text = text
    return xml


def build_preparer(
    pii_key: str, max_message_bytes: int, signature_policy: SignaturePolicy = "registered"
) -> Preparer:
    """The preparer a service process (or a prepare worker) uses."""
    return Preparer(
        SchemaChecker(),
        PiiProtector(pii_key, gb11643_valid),
        max_message_bytes,
        signature_policy,
    )
