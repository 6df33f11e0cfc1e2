"""Read models of the review (SPEC §6.4): the exception queue, one bundle laid out for an
operator, and the dashboard figures. Shared by the JSON API and the web UI.

Personal data reaches these only masked (documents keep ``Pii`` values and masked XML); the
raw XML is scrubbed once more on the way out so a number that slipped into free text (a note,
an address) is masked too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import as_utc, beijing_day_start, iso
from service.engine.bundle_view import load_bundle
from service.engine.decide import current_documents
from service.errors import InvalidRequest
from service.rules.catalogue import RULES, Stage
from service.security.keys import Caller
from service.security.masking import scrub
from service.store import audit, bundles, documents
from service.store import review as review_store
from service.store.review import STATES, QueueFilter

KINDS = ("order", "payment", "logistics", "inventory")
LINE_PREFIX = {"order": "OrderList", "inventory": "InventoryList"}
PAGE_SIZES = (20, 50, 100)
# Pending-by-age bands of the dashboard: younger than 1 h, 6 h, 24 h, and older.
AGE_EDGES = [timedelta(hours=1), timedelta(hours=6), timedelta(hours=24)]


# --- the queue -------------------------------------------------------------------------


def _day(params: Mapping[str, str], name: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date YYYY-MM-DD", field=name) from None


def _positive(params: Mapping[str, str], name: str, default: int) -> int:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise InvalidRequest(f"{name} must be a positive whole number", field=name)
    return int(value)


def parse_days(params: Mapping[str, str]) -> tuple[date | None, date | None]:
    """``from`` and ``to``: inclusive Beijing calendar days, either may be absent."""
    since, until = _day(params, "from"), _day(params, "to")
    if since and until and since > until:
        raise InvalidRequest("from must not be after to", field="from")
    return since, until


def parse_filter(params: Mapping[str, str]) -> tuple[QueueFilter, int, int]:
    """Query parameters -> (filter, page, page size). Empty values mean "any"; ``state``
    defaults to exceptions and ``state=all`` drops the state filter."""
    state = (params.get("state") or "exception").strip()
    if state != "all" and state not in STATES:
        raise InvalidRequest(f"state must be one of {', '.join(STATES)} or all", field="state")
    sort = (params.get("sort") or "oldest").strip()
    if sort not in ("oldest", "newest"):
        raise InvalidRequest("sort must be oldest or newest", field="sort")
    size = _positive(params, "size", PAGE_SIZES[1])
    if size not in PAGE_SIZES:
        raise InvalidRequest(f"size must be one of {PAGE_SIZES}", field="size")

    def text(name: str) -> str | None:
        return (params.get(name) or "").strip() or None

    since, until = parse_days(params)
    f = QueueFilter(
        state=None if state == "all" else state,
        regime=text("regime"),
        rule=text("rule"),
        enterprise=text("enterprise"),
        since=since,
        until=until,
        search=text("q"),
        newest_first=sort == "newest",
    )
    return f, _positive(params, "page", 1), size


def queue_item(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    first_seen = as_utc(row["first_seen_at"])
    return {
        "ebpCode": row["ebp_code"],
        "orderNo": row["order_no"],
        "logisticsNo": row["inv_logistics_no"],
        "direction": row["direction"],
        "regime": row["regime_declared"] or row["regime_classified"],
        "state": row["state"],
        "invtNo": row["invt_no"],
        "version": row["version"],
        "rules": [f["code"] for f in row["findings"]],
        "missing": row["missing"],
        "firstSeenAt": iso(first_seen),
        "decidedAt": iso(row["decided_at"]),
        "ageSeconds": int((now - first_seen).total_seconds()),
    }


async def queue(
    conn: AsyncConnection, f: QueueFilter, page: int, size: int, now: datetime
) -> dict[str, Any]:
    rows, total = await review_store.queue_page(conn, f, (page - 1) * size, size)
    counts = await review_store.rule_counts(conn, f)
    return {
        "items": [queue_item(r, now) for r in rows],
        "total": total,
        "page": page,
        "size": size,
        "pages": max(1, -(-total // size)),
        # bundles per code, of any severity: what the rule filter would find
        "counts": dict(sorted(counts.bundles.items(), key=lambda kv: (-kv[1], kv[0]))),
        # the same bundles, as errors and as warnings (a code is one or the other per rule)
        "countsBySeverity": {
            code: {"error": counts.errors[code], "warning": counts.warnings[code]}
            for code in sorted(counts.bundles, key=lambda c: (-counts.bundles[c], c))
        },
    }


# --- one bundle ------------------------------------------------------------------------


def _shown(value: Any) -> str | None:
    """A stored field value as text: protected values by their mask, never their digest."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return str(value.get("masked", ""))
    return str(value)


def fields_of(kind: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document's fields in schema order, lines addressed as the rules address them
    (``OrderList[2].qty``) so findings point at them."""
    out: list[dict[str, Any]] = []
    lines: list[Mapping[str, Any]] = []
    for name, value in data.items():
        if name == "lines":
            lines = list(value or ())
        elif value is not None and name != "direction":
            out.append({"field": name, "value": _shown(value)})
    prefix = LINE_PREFIX.get(kind, "List")
    for line in lines:
        gnum = line.get("gnum")
        for name, value in line.items():
            if value is not None:
                out.append({"field": f"{prefix}[{gnum}].{name}", "value": _shown(value)})
    return out


def pretty_xml(raw: str) -> str:
    """The stored (masked) XML indented for reading; as stored if it does not parse."""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        element = etree.fromstring(raw.encode(), parser)
        etree.indent(element, space="  ")
        raw = etree.tostring(element, encoding="unicode")
    except etree.XMLSyntaxError:
        pass
    return scrub(raw)


def comparisons(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every compared pair of every finding, marked when the two values differ."""
    out = []
    for finding in findings:
        for pair in finding.get("fields", ()):
            left, right = pair["left"], pair["right"]
            out.append(
                {
                    "code": finding["code"],
                    "severity": finding["severity"],
                    "left": left,
                    "right": right,
                    "mismatch": left.get("value") != right.get("value"),
                }
            )
    return out


def mismatched_fields(pairs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Document kind -> its fields that some finding found different from the other side."""
    out: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for pair in pairs:
        if pair["mismatch"]:
            for side in (pair["left"], pair["right"]):
                if side["document"] in out:
                    out[side["document"]].add(side["field"])
    return out


def _audit_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["at"]),
        "by": row["actor"],
        "action": row["action"],
        "reason": row["reason"],
        "bundleVersion": row["bundle_version"],
        "newVersion": row["new_version"],
        "stateBefore": row["state_before"],
        "stateAfter": row["state_after"],
        "seq": row["seq"],
    }


async def review_bundle(
    conn: AsyncConnection, ebp_code: str, order_no: str, caller: Caller
) -> dict[str, Any] | None:
    """The bundle view (SPEC §6.2) plus what an operator decides on: every document's fields
    and masked XML, the compared pairs, and the audit trail."""
    view = await load_bundle(conn, ebp_code, order_no, caller)
    if view is None:
        return None
    bundle = await bundles.get_by_key(conn, ebp_code, order_no)
    assert bundle is not None
    rows = await documents.current_in_bundle(conn, bundle["id"])
    chosen = current_documents(rows, bundle)
    by_guid = {(row["kind"], row["guid"]): row for row in rows}
    sides: dict[str, Any] = {}
    for kind in KINDS:
        doc = getattr(chosen, kind)
        if doc is not None:
            row = by_guid[(kind, doc.guid)]
            sides[kind] = {
                "guid": row["guid"],
                "messageType": row["message_type"],
                "signature": row["signature"],
                "signatureSerial": row["signature_serial"],
                "fields": fields_of(kind, row["data"]),
                "xml": pretty_xml(row["raw_xml"]),
            }
    pairs = comparisons(view["findings"])
    return {
        **view,
        "sides": sides,
        "comparisons": pairs,
        "audit": [_audit_json(r) for r in await audit.for_bundle(conn, bundle["id"])],
    }


# --- recent actions and the dashboard ---------------------------------------------------


async def recent_actions(conn: AsyncConnection, limit: int) -> list[dict[str, Any]]:
    return [
        {**_audit_json(r), "ebpCode": r["ebp_code"], "orderNo": r["order_no"]}
        for r in await audit.recent(conn, limit)
    ]


async def dashboard(
    conn: AsyncConnection,
    now: datetime,
    since: date | None = None,
    until: date | None = None,
    minutes: int = 60,
) -> dict[str, Any]:
    """The dashboard's figures. ``since``/``until`` (inclusive Beijing days) narrow every figure
    but the throughput, which is the last ``minutes`` whole minutes, the current one included.
    The counts of bundles are the queue's: the same conditions under the same filter."""
    end = as_utc(now).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=minutes)
    per_minute = await review_store.documents_per_minute(conn, start)
    throughput = []
    for i in range(minutes):
        label = (start + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M")
        throughput.append({"minute": label, "documents": per_minute.get(label, 0)})
    decided_since = beijing_day_start(since) if since else None
    decided_until = beijing_day_start(until + timedelta(days=1)) if until else None
    mix: dict[str, dict[str, int]] = {}
    for direction, regime, decision, n in await review_store.decision_mix(
        conn, decided_since, decided_until
    ):
        mix.setdefault(f"{direction}{regime}", {}).setdefault(decision, 0)
        mix[f"{direction}{regime}"][decision] += n
    days = QueueFilter(state=None, since=since, until=until)
    # the queue's default view (bundles in exception) and its counts per rule
    rules = await review_store.rule_counts(conn, replace(days, state="exception"))
    states = await review_store.state_counts(conn, days)
    bands = await review_store.pending_by_age(conn, days, now, AGE_EDGES)
    labels = ["<1h", "1–6h", "6–24h", ">24h"]
    return {
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
        "throughput": throughput,
        "decisionMix": [{"regime": k, **v} for k, v in sorted(mix.items())],
        # every state, the lifecycle's included, counted as the queue's state filter counts
        "bundlesByState": [{"state": s, "bundles": states.get(s, 0)} for s in STATES],
        "topRules": [
            {
                "code": code,
                "bundles": n,
                "errors": rules.errors[code],
                "warnings": rules.warnings[code],
            }
            for code, n in sorted(rules.bundles.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ],
        "pendingByAge": [{"age": a, "bundles": n} for a, n in zip(labels, bands, strict=True)],
    }


def collision_rules() -> list[dict[str, str]]:
    """Every collision rule code with its texts, for filters and legends."""
    return [
        {"code": spec.code.value, "message_zh": spec.message_zh, "message_en": spec.message_en}
        for spec in RULES.values()
        if spec.stage is Stage.COLLISION
    ]
