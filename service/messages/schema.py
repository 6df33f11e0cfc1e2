"""Schema check of a CEB message, document by document (SPEC §6.1).

A message carries up to 100 documents and one bad document must not sink the other 99, yet the
schema judges whole messages. So:

- fast path: lxml validates the whole message once (~20 µs per document). Valid is the common
  case and costs nothing more: no copies, no ``xmlschema``.
- slow path: each document is validated alone, in a copy of the message that keeps the envelope
  (root attributes, ``BaseTransfer``, ``BaseSubscribe``, ``ExtendMessage``, ``ds:Signature``, in
  their original order). A document is at fault exactly when its copy fails.
- the envelope is at fault when every copy fails with the same error outside its document (bad
  root ``guid``, missing or repeated ``BaseTransfer``), or when the documents that pass alone
  still fail together (101 documents). Then every document carries the envelope's errors.

Zero documents: the message cannot be answered per document, so ``errors`` holds only the key
``ENVELOPE`` (-1) and ``documents`` is empty; ingest refuses such a message whole. ``ENVELOPE``
is also present, with the same errors every document got, whenever the envelope is at fault.
"""

from __future__ import annotations

import logging
import threading
from copy import deepcopy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from service.messages.explain import (
    Located,
    PathNamer,
    SchemaError,
    explain_with_lxml,
    explain_with_xmlschema,
)
from service.messages.registry import CEB_NS, MessageType

__all__ = [
    "DEFAULT_SCHEMAS_DIR",
    "ENVELOPE",
    "MessageCheck",
    "SchemaChecker",
    "SchemaError",
    "schema_checker",
]

log = logging.getLogger(__name__)

DEFAULT_SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
SIDES = ("import", "export")
# Key of ``MessageCheck.errors`` for errors of the message envelope rather than one document.
ENVELOPE = -1
# A sender gets enough to fix its document; an answer is not a dump of a broken generator.
MAX_ERRORS_PER_DOCUMENT = 20
# Explanations look further than what is shown: envelope errors come after a document's own
# errors in document order, and the envelope is recognised by finding them in every copy.
_EXPLAINED_ERRORS = 10 * MAX_ERRORS_PER_DOCUMENT
# xmlschema explains ~70 k elements/s, lxml validates ~100x faster. Past this many elements an
# invalid message is explained from lxml's error log instead, so a 10 MiB message of broken
# documents cannot buy seconds of CPU. One explainer per message keeps messages comparable
# across its documents (the envelope is recognised by identical errors).
EXPLAIN_BUDGET_ELEMENTS = 10_000

_SCHEMA_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass
class MessageCheck:
    """The documents of a message and the schema errors of those that failed."""

    # The document elements (Order/Payment/...), direct children of the root, in order.
    documents: list[etree._Element]
    # 0-based document index -> its errors; a document absent from the dict is schema-valid.
    errors: dict[int, list[SchemaError]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def envelope_errors(self) -> list[SchemaError]:
        return self.errors.get(ENVELOPE, [])


class SchemaChecker:
    """Validates CEB messages against Sandan's ``schemas/``; build one per process."""

    def __init__(
        self, schemas_dir: Path | None = None, explain_budget: int = EXPLAIN_BUDGET_ELEMENTS
    ) -> None:
        self.schemas_dir = (schemas_dir or DEFAULT_SCHEMAS_DIR).resolve()
        self.explain_budget = explain_budget
        self._lxml = {side: self._compile(side) for side in SIDES}
        self._explainers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._per_thread = threading.local()

    def _compile(self, side: str) -> etree.XMLSchema:
        path = self.schemas_dir / f"{side}.xsd"
        if not path.is_file():
            raise FileNotFoundError(f"schema {path} not found")
        return etree.XMLSchema(etree.parse(str(path), _SCHEMA_PARSER))

    def _log_schema(self, side: str) -> etree.XMLSchema:
        """A side's schema whose error log only this thread reads and writes.

        lxml keeps the log of a schema's last validation on the schema object: read from the
        shared one, two invalid messages prepared at once in two threads could each get the
        other's errors (and so quote another sender's values). Compiled once per thread.
        """
        schemas: dict[str, etree.XMLSchema] = self._per_thread.__dict__.setdefault("schemas", {})
        if side not in schemas:
            schemas[side] = self._compile(side)
        return schemas[side]

    def explainer(self, side: str) -> Any:
        """The ``xmlschema`` twin of a side's schema, compiled on first need (~0.3 s)."""
        with self._lock:
            if side not in self._explainers:
                import xmlschema  # slow to import; only failures need it

                # "local": the schema and its xmldsig import are files; never the network.
                self._explainers[side] = xmlschema.XMLSchema(
                    str(self.schemas_dir / f"{side}.xsd"), allow="local"
                )
            return self._explainers[side]

    def check(self, message_type: MessageType, root: etree._Element) -> MessageCheck:
        if root.tag != f"{{{CEB_NS}}}{message_type.root}":
            raise ValueError(f"root {root.tag!r} is not a {message_type.root}")
        document_tag = f"{{{CEB_NS}}}{message_type.document}"
        documents = [child for child in root if child.tag == document_tag]
        if self._lxml[message_type.schema].validate(root):
            return MessageCheck(documents)
        return MessageCheck(documents, self._attribute(message_type, root, documents))

    def _attribute(
        self, message_type: MessageType, root: etree._Element, documents: list[etree._Element]
    ) -> dict[int, list[SchemaError]]:
        schema = self._lxml[message_type.schema]
        tag = f"{{{CEB_NS}}}{message_type.document}"
        repeated = [name for name in (message_type.lines, "BaseSubscribe") if name]
        precise = sum(1 for _ in root.iter()) <= self.explain_budget

        def explain(tree: etree._Element, origin: list[int]) -> list[Located]:
            namer = PathNamer(tree, tag, origin, repeated)
            return self._explain(message_type, tree, namer, precise)

        if not documents:
            return {ENVELOPE: [error for _, error in explain(root, [])][:MAX_ERRORS_PER_DOCUMENT]}

        faulty: dict[int, list[Located]] = {}
        for index, document in enumerate(documents):
            alone = _copy_with(root, tag, [document])
            if not schema.validate(alone):
                faulty[index] = explain(alone, [index])

        envelope: list[SchemaError] = []
        if len(faulty) == len(documents):
            outside = [{e for where, e in found if where is None} for found in faulty.values()]
            common = set.intersection(*outside)
            envelope = [e for where, e in faulty[0] if where is None and e in common]
        good = [i for i in range(len(documents)) if i not in faulty]
        if not envelope and good:
            # Documents valid one by one can still break the message together (maxOccurs):
            # with no faulty document that is the message itself, known to be invalid.
            together = _copy_with(root, tag, [documents[i] for i in good]) if faulty else root
            if together is root or not schema.validate(together):
                envelope = [error for _, error in explain(together, good)]

        errors: dict[int, list[SchemaError]] = {}
        for index in range(len(documents)):
            own = [e for _, e in faulty.get(index, []) if e not in envelope]
            if own or envelope:
                errors[index] = (own + envelope)[:MAX_ERRORS_PER_DOCUMENT]
        if envelope:
            errors[ENVELOPE] = envelope[:MAX_ERRORS_PER_DOCUMENT]
        return errors

    def _explain(
        self, message_type: MessageType, tree: etree._Element, namer: PathNamer, precise: bool
    ) -> list[Located]:
        found: list[Located] = []
        try:
            if precise:
                found = explain_with_xmlschema(
                    self.explainer(message_type.schema), tree, namer, _EXPLAINED_ERRORS
                )
        except Exception:  # an explanation must never lose the verdict lxml already gave
            log.exception("xmlschema could not explain a %s failure", message_type.root)
        if not found:
            found = explain_with_lxml(
                self._log_schema(message_type.schema), tree, namer, _EXPLAINED_ERRORS
            )
        return found or [(None, SchemaError(namer.path(tree), "does not match the schema"))]


def _copy_with(
    root: etree._Element, document_tag: str, keep: list[etree._Element]
) -> etree._Element:
    """A copy of ``root`` holding only the ``keep`` documents and the whole envelope."""
    kept = {id(document) for document in keep}
    copy = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=root.nsmap)
    copy.text = root.text
    for child in root:
        if child.tag == document_tag and id(child) not in kept:
            continue
        copy.append(deepcopy(child))
    return copy


@lru_cache(maxsize=1)
def schema_checker() -> SchemaChecker:
    """The process-wide checker over the shipped ``schemas/``."""
    return SchemaChecker()
