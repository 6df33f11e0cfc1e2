"""What one intake transaction has read and not yet written.

A batch reads up front, in a few set-based queries, everything its documents can meet: the
bundles they name (created if missing and locked in key order), which guids are stored, the
newest version of each kind in those bundles, every version of the waybills they are or
name, and the import waybills waiting for their orderNos. Applying the documents then works
on that picture in memory; new document rows, their updates, version bumps and history
events are written in bulk by ``flush`` before the batch's bundles are decided.

Rows of documents written by this batch carry ``"id": None`` until ``flush_documents``
inserts them; whatever refers to one (a history event, an update) refers to the row itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.engine import decoded
from service.engine.decide import chosen_rows
from service.engine.incoming import IncomingDocument
from service.engine.lifecycle_writes import LifecycleWrites, Windows
from service.engine.movement_keys import MovementReads, movement_names, read_arrivals
from service.messages.documents import Document, Inventory, Logistics
from service.messages.registry import Kind
from service.store import bundles, documents
from service.store.dialect import advisory_locks

Row = dict[str, Any]
WaybillKey = tuple[str, str]
# Sorts rows not yet inserted after every stored one of the same appTime.
_UNWRITTEN = 2**62


# The kinds that name their bundle by (ebpCode, orderNo). Waybills meet theirs through
# secondary keys; lifecycle documents (cancel, return) through the invtNo.
# (Members, not ``.value``: an enum's ``value`` is a descriptor call, several µs a document
# on the intake path.)
_KEYED = frozenset({Kind.ORDER, Kind.PAYMENT, Kind.INVENTORY})
_BY_INVT_NO = frozenset({Kind.CANCEL, Kind.RETURN})


def bundle_key(inc: IncomingDocument) -> tuple[str, str] | None:
    """The primary key a document names, if it names one (waybills never do)."""
    doc = inc.document
    if doc.kind not in _KEYED:
        return None
    return (doc.ebpCode, doc.orderNo)  # type: ignore[attr-defined]


def invt_no_named(inc: IncomingDocument) -> str | None:
    """The invtNo a lifecycle document names its consignment by."""
    doc = inc.document
    if doc.kind not in _BY_INVT_NO:
        return None
    return getattr(doc, "invtNo", None)


def waybill_key(inc: IncomingDocument) -> WaybillKey | None:
    """The waybill a document is (a waybill) or names (an inventory)."""
    doc = inc.document
    if isinstance(doc, Logistics | Inventory):
        return (doc.logisticsCode, doc.logisticsNo)
    return None


def waybill_point(number: WaybillKey) -> str:
    """The advisory lock name a waybill number is held under (see ``meeting_points``)."""
    return f"waybill:{number[0]}:{number[1]}"


def _newest(rows: list[Row]) -> Row | None:
    return max(
        rows,
        key=lambda r: (r["app_time"], r["id"] if r["id"] is not None else _UNWRITTEN),
        default=None,
    )


@dataclass(slots=True)
class BatchState:
    now: datetime
    deadline: timedelta
    dirty: set[int] = field(default_factory=set)
    # (ebpCode, orderNo) -> every bundle row the batch may touch, locked at its start: the
    # ones its documents name, and the ones reachable through their secondary keys
    bundles: dict[tuple[str, str], Row] = field(default_factory=dict)
    by_id: dict[int, Row] = field(default_factory=dict)
    # waybill number -> ids of the held bundles whose inventory names it
    naming: dict[WaybillKey, set[int]] = field(default_factory=dict)
    # orderNo -> ids of the held bundles with that orderNo
    by_order: dict[str, set[int]] = field(default_factory=dict)
    # bundle id -> column values to write at ``flush`` (besides the version)
    bundle_changes: dict[int, Row] = field(default_factory=dict)
    # (sender, kind, guid) -> digest and returnStatus of a stored document
    known: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    # bundle id -> its version as this batch has bumped it
    versions: dict[int, int] = field(default_factory=dict)
    events: list[Row] = field(default_factory=list)
    # (bundle id, kind) -> newest version of a non-waybill document in the bundle
    latest: dict[tuple[int, str], Row] = field(default_factory=dict)
    # waybill number -> every version of it (waybills move between bundles: their versions
    # follow the number); only for the numbers this batch's documents are or name
    waybills: dict[WaybillKey, list[Row]] = field(default_factory=dict)
    # orderNo -> import waybill rows naming it that were waiting, or arrived, in this batch
    waiting: dict[str, list[Row]] = field(default_factory=dict)
    # rows to insert, updates to stored rows (id -> values), events waiting for a row's id
    unwritten: list[Row] = field(default_factory=list)
    # the typed document of each unwritten row, remembered once the row has its id
    unwritten_documents: list[Document] = field(default_factory=list)
    # what this batch put in the decoded-document cache (dropped again if it rolls back)
    remembered: list[decoded.Key] = field(default_factory=list)
    updates: dict[int, Row] = field(default_factory=dict)
    pending_refs: list[tuple[Row, Row]] = field(default_factory=list)
    # SPEC §10: invtNo -> the held bundle it names; the limits lifecycle documents are
    # judged by, what they leave for the deciding step, and the returns read so far
    by_invt_no: dict[str, Row] = field(default_factory=dict)
    windows: Windows = field(default_factory=Windows)
    lifecycle: LifecycleWrites = field(default_factory=LifecycleWrites)
    returns: dict[int, list[Row]] = field(default_factory=dict)
    movement: MovementReads = field(default_factory=MovementReads)

    # --- reading -------------------------------------------------------------------------

    async def prepare(
        self, conn: AsyncConnection, incoming: list[IncomingDocument], sender_of: list[str]
    ) -> None:
        keys = [k for inc in incoming if (k := bundle_key(inc)) is not None]
        invt_nos = [n for inc in incoming if (n := invt_no_named(inc))]
        moving = movement_names(incoming)
        if moving is not None:
            invt_nos += moving.invt_nos
        # an invtNo never moves to another bundle: read before the locks, then locked with
        # the bundles the batch names (a billNo is held by its advisory lock meanwhile)
        invt_keys = await bundles.keys_by_invt_no(conn, invt_nos) if invt_nos else {}
        bills = await bundles.keys_by_bill_no(conn, moving.bill_nos) if moving else {}
        billed = [key for found in bills.values() for key in found]
        self.bundles = await bundles.ensure(
            conn, keys + list(invt_keys.values()) + billed, self.now, self.deadline
        )
        self.by_invt_no = {no: self.bundles[key] for no, key in invt_keys.items()}
        self.movement.by_bill_no = {b: [self.bundles[k] for k in ks] for b, ks in bills.items()}
        ids = sorted(int(b["id"]) for b in self.bundles.values())
        numbers = sorted(
            {k for inc in incoming if (k := waybill_key(inc)) is not None}
            | (moving.numbers if moving else set())
        )
        order_nos = sorted({order_no for _, order_no in self.bundles})
        guids = [
            (sender, inc.document.kind.value, inc.document.guid)
            for sender, inc in zip(sender_of, incoming, strict=True)
        ]
        reads = await documents.read_for_batch(conn, guids, ids, numbers, order_nos)
        self.known, self.latest = reads.known, reads.latest
        self.waybills = {k: [] for k in numbers}
        seen: dict[int, Row] = {}
        for row in reads.waybills:
            seen.setdefault(int(row["id"]), row)
        for row in await self._waiting_held(conn, order_nos, numbers, reads.waiting):
            seen.setdefault(int(row["id"]), row)
        wanted_orders = set(order_nos)
        for row in seen.values():
            number = (row["logistics_code"], row["logistics_no"])
            if number in self.waybills:
                self.waybills[number].append(row)
            if row["direction"] == "I" and row["order_no"] in wanted_orders:
                self.waiting.setdefault(row["order_no"], []).append(row)
        await self._hold_related(conn, incoming, numbers, order_nos, seen.values())
        self.movement.arrivals = await read_arrivals(conn, incoming, self.waybills, moving)

    async def _waiting_held(
        self,
        conn: AsyncConnection,
        order_nos: list[str],
        numbers: list[WaybillKey],
        rows: list[Row],
    ) -> list[Row]:
        """Waybills waiting for the batch's orderNos, with their numbers held.

        A bundle new in this batch may claim them by orderNo while, in another worker, an
        inventory naming one claims it too; that worker holds the waybill's number (see
        ``meeting_points``), so this batch holds it as well and reads again what waiting for
        it may have changed. New waiting waybills cannot appear meanwhile: a waybill naming
        one of these orderNos waits for the orderNo this batch already holds. ``rows``: the
        waiting waybills as the batch first read them.
        """
        extra = {(r["logistics_code"], r["logistics_no"]) for r in rows} - set(numbers)
        if not extra:
            return rows
        await advisory_locks(conn, (waybill_point(number) for number in extra))
        return await documents.waiting_waybills(conn, order_nos)

    async def _hold_related(
        self,
        conn: AsyncConnection,
        incoming: list[IncomingDocument],
        numbers: list[WaybillKey],
        order_nos: list[str],
        waybill_rows: Any,
    ) -> None:
        """Lock the bundles the batch may reach through a waybill (the ones naming it,
        holding it, or sharing its orderNo) and index everything held in memory."""
        waybill_orders = {
            doc.orderNo
            for inc in incoming
            if isinstance(doc := inc.document, Logistics) and doc.orderNo
        }
        holders = sorted({int(r["bundle_id"]) for r in waybill_rows if r["bundle_id"] is not None})
        related = await bundles.lock_related(
            conn, numbers, sorted(waybill_orders | set(order_nos)), holders
        )
        for row in related:
            self.bundles.setdefault((row["ebp_code"], row["order_no"]), row)
        for row in self.bundles.values():
            bundle_id = int(row["id"])
            self.by_id[bundle_id] = row
            self.by_order.setdefault(row["order_no"], set()).add(bundle_id)
            if row["inv_logistics_code"] is not None:
                number = (row["inv_logistics_code"], row["inv_logistics_no"])
                self.naming.setdefault(number, set()).add(bundle_id)

    def naming_bundles(self, number: WaybillKey) -> list[Row]:
        return [self.by_id[i] for i in sorted(self.naming.get(number, ()))]

    def holding_order_no(self, order_no: str) -> list[Row]:
        """Bundles with this orderNo that hold something: rows made for rejected documents
        are no meeting point."""
        return [
            self.by_id[i]
            for i in sorted(self.by_order.get(order_no, ()))
            if self.version_of(self.by_id[i]) > 0
        ]

    def name_waybill(self, bundle: Row, number: WaybillKey | None) -> None:
        """The bundle's inventory now names ``number`` (None: names nothing)."""
        bundle_id = int(bundle["id"])
        if bundle["inv_logistics_code"] is not None:
            old = (bundle["inv_logistics_code"], bundle["inv_logistics_no"])
            self.naming.get(old, set()).discard(bundle_id)
        code, no = number if number is not None else (None, None)
        bundle["inv_logistics_code"], bundle["inv_logistics_no"] = code, no
        self.bundle_changes.setdefault(bundle_id, {}).update(
            inv_logistics_code=code, inv_logistics_no=no
        )
        if number is not None:
            self.naming.setdefault(number, set()).add(bundle_id)

    async def latest_version(
        self, conn: AsyncConnection, inc: IncomingDocument, bundle: Row | None
    ) -> Row | None:
        """The newest version of the document ``inc`` would replace."""
        doc = inc.document
        if isinstance(doc, Logistics):
            return _newest(self.waybills[(doc.logisticsCode, doc.logisticsNo)])
        assert bundle is not None
        return self.latest.get((int(bundle["id"]), doc.kind.value))

    async def ever_in_bundle(self, conn: AsyncConnection, bundle: Row, kind: str) -> bool:
        """Whether the bundle has held any version of ``kind``."""
        if kind != Kind.LOGISTICS.value:
            return (int(bundle["id"]), kind) in self.latest
        await self.flush_documents(conn)  # waybills attached in this batch count too
        where = documents.in_bundle(int(bundle["id"]), kind)
        return await documents.latest_version(conn, where) is not None

    async def judged_waybill(self, conn: AsyncConnection, bundle: Row) -> Row | None:
        """The waybill version the bundle is judged on (``decide.chosen_rows``), this
        batch's changes so far included."""
        await self.flush_documents(conn)
        bundle_id = int(bundle["id"])
        rows = (await documents.current_in_bundles(conn, [bundle_id], bodies=False))[bundle_id]
        waybills = [r for r in rows if r["kind"] == Kind.LOGISTICS.value]
        return next(iter(chosen_rows(waybills, bundle)), None)

    def current_waybill(self, number: WaybillKey) -> Row | None:
        return next((r for r in self.waybills[number] if r["status"] == "current"), None)

    def waiting_for(self, order_no: str) -> list[Row]:
        """Import waybills naming ``order_no`` that no bundle holds, in arrival order (stored
        ones by id, then this batch's as they came)."""
        rows = [
            r
            for r in self.waiting.get(order_no, [])
            if r["status"] == "current" and r["bundle_id"] is None
        ]
        return sorted(rows, key=lambda r: r["id"] if r["id"] is not None else _UNWRITTEN)

    # --- bundles -------------------------------------------------------------------------

    def version_of(self, bundle: Row) -> int:
        return self.versions.get(int(bundle["id"]), int(bundle["version"]))

    def bump(self, bundle: Row) -> int:
        version = self.version_of(bundle) + 1
        self.versions[int(bundle["id"])] = version
        return version

    def record(self, bundle_id: int, version: int, event: str, detail: Row) -> None:
        self.events.append(
            {
                "bundle_id": bundle_id,
                "at": self.now,
                "version": version,
                "event": event,
                "detail": detail,
            }
        )

    def record_document(
        self, bundle_id: int, version: int, event: str, detail: Row, row: Row
    ) -> None:
        """An event naming a document row by its id, known once the row is written."""
        detail["documentId"] = row["id"]
        if row["id"] is None:
            self.pending_refs.append((detail, row))
        self.record(bundle_id, version, event, detail)

    def change_bundle(self, bundle: Row, **values: Any) -> None:
        """Change a held bundle's columns, written at ``take_bundle_writes``."""
        bundle.update(values)
        self.bundle_changes.setdefault(int(bundle["id"]), {}).update(values)

    # --- documents -----------------------------------------------------------------------

    def add_document(self, values: Row, document: Document) -> Row:
        """A new document row (``document`` typed), written at the next ``flush_documents``."""
        row = {"id": None, **values}
        self.unwritten.append(row)
        self.unwritten_documents.append(document)
        self.known[(row["sender"], row["kind"], row["guid"])] = {
            "digest": row["digest"],
            "return_status": row["return_status"],
        }
        if row["kind"] == Kind.LOGISTICS.value:
            self.waybills[(row["logistics_code"], row["logistics_no"])].append(row)
            if row["direction"] == "I" and row["order_no"]:
                self.waiting.setdefault(row["order_no"], []).append(row)
        elif row["bundle_id"] is not None:
            self.latest[(int(row["bundle_id"]), row["kind"])] = row
        return row

    def change(self, row: Row, **values: Any) -> None:
        """Change a document row, stored or not."""
        row.update(values)
        if row["id"] is not None:
            self.updates.setdefault(int(row["id"]), {}).update(values)

    async def flush_documents(self, conn: AsyncConnection) -> None:
        if self.unwritten:
            ids = await documents.insert_many(conn, self.unwritten)
            database = str(conn.engine.url)
            for row, doc_id, typed in zip(
                self.unwritten, ids, self.unwritten_documents, strict=True
            ):
                row["id"] = doc_id
                self.remembered.append(decoded.remember(database, doc_id, row["digest"], typed))
            for detail, row in self.pending_refs:
                detail["documentId"] = row["id"]
            self.unwritten = []
            self.unwritten_documents = []
            self.pending_refs = []
        if self.updates:
            await documents.update_many(conn, list(self.updates.items()))
            self.updates = {}

    def take_bundle_writes(self) -> tuple[list[tuple[int, Row]], list[Row]]:
        """The bundle changes (version bumps included) and history events gathered so far,
        for the caller to write together with the decisions they lead to; the held rows
        show the changes from here on, as the database will once they are written."""
        for bundle_id, version in self.versions.items():
            self.bundle_changes.setdefault(bundle_id, {})["version"] = version
        changes = list(self.bundle_changes.items())
        for bundle_id, values in changes:
            self.by_id[bundle_id].update(values)
        history = self.events
        self.bundle_changes, self.events = {}, []
        self.versions.clear()
        return changes, history

    def untouched(self) -> list[int]:
        """Bundles created for this batch that no document ended in (see ``ensure``)."""
        return [int(b["id"]) for b in self.bundles.values() if self.version_of(b) == 0]
