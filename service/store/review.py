"""Read queries behind the review UI and API: the exception queue and the dashboard figures.

The queue filters on columns of ``bundles``; the rule filter matches the stored findings JSON
as text, which both SQLite and PostgreSQL (``json``, kept as written) hold as the encoder
wrote it (``store.jsoncodec``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Text, case, cast, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.store.tables import bundles, documents, manifest

Row = dict[str, Any]

# Every state a bundle can be in, in the order the queue and the dashboard list them: the
# decision's, then the lifecycle's after it (SPEC §10).
STATES = ("exception", "pending", "released", "rejected", "cancelled", "returned", "closed")
PARTY_COLUMNS = (
    bundles.c.ebp_code,
    bundles.c.ebc_code,
    bundles.c.agent_code,
    bundles.c.pay_code,
    bundles.c.area_code,
    bundles.c.inv_logistics_code,
)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What an operator narrowed the queue to; ``None`` everywhere means everything."""

    state: str | None = "exception"
    # A direction + regime code ("I9610", "E9710") or a bare regime code ("1210").
    regime: str | None = None
    rule: str | None = None
    enterprise: str | None = None
    # Inclusive calendar days (UTC) of the bundle's first document.
    since: date | None = None
    until: date | None = None
    # An order number, a waybill number or an invtNo, exactly.
    search: str | None = None
    newest_first: bool = False


def _conditions(f: QueueFilter, *, with_rule: bool = True) -> list[Any]:
    where: list[Any] = []
    if f.state:
        where.append(bundles.c.state == f.state)
    if f.regime:
        code = f.regime
        if len(code) == 5 and code[0] in "IE":
            where.append(bundles.c.direction == code[0])
            code = code[1:]
        where.append(or_(bundles.c.regime_declared == code, bundles.c.regime_classified == code))
    if f.rule and with_rule:
        # The stored text of a finding holds `"code":"<CODE>"` (orjson), or `"code": "<CODE>"`
        # in rows written before it (the stdlib encoder); `_` is a LIKE wildcard.
        escaped = f.rule.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        text = cast(bundles.c.findings, Text)
        where.append(
            or_(*(text.like(f'%"code":{space}"{escaped}"%', escape="\\") for space in ("", " ")))
        )
    if f.enterprise:
        where.append(or_(*(column == f.enterprise for column in PARTY_COLUMNS)))
    if f.since:
        where.append(bundles.c.first_seen_at >= datetime.combine(f.since, time.min, UTC))
    if f.until:
        where.append(
            bundles.c.first_seen_at < datetime.combine(f.until + timedelta(days=1), time.min, UTC)
        )
    if f.search:
        waybill_bundles = select(documents.c.bundle_id).where(
            documents.c.kind == "logistics",
            documents.c.logistics_no == f.search,
            documents.c.bundle_id.is_not(None),
        )
        where.append(
            or_(
                bundles.c.order_no == f.search,
                bundles.c.inv_logistics_no == f.search,
                bundles.c.invt_no == f.search,
                bundles.c.id.in_(waybill_bundles),
            )
        )
    # Rows `ensure` made for documents that were then refused hold nothing.
    where.append(bundles.c.version > 0)
    return where


async def queue_page(
    conn: AsyncConnection, f: QueueFilter, offset: int, limit: int
) -> tuple[list[Row], int]:
    """One page of bundles, oldest first unless asked otherwise, and the total."""
    where = _conditions(f)
    total = (await conn.execute(select(func.count()).select_from(bundles).where(*where))).scalar()
    order = bundles.c.first_seen_at.desc() if f.newest_first else bundles.c.first_seen_at
    rows = (
        (
            await conn.execute(
                select(bundles)
                .where(*where)
                .order_by(order, bundles.c.id)
                .offset(offset)
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows], int(total or 0)


async def rule_counts(conn: AsyncConnection, f: QueueFilter) -> Counter[str]:
    """Bundles per finding code under every filter but the rule itself (so the counts show
    what picking a rule would leave)."""
    counts: Counter[str] = Counter()
    result = await conn.execute(select(bundles.c.findings).where(*_conditions(f, with_rule=False)))
    for findings in result.scalars():
        counts.update({finding["code"] for finding in findings or ()})
    return counts


# --- dashboard -------------------------------------------------------------------------


def _minute(conn: AsyncConnection, column: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.to_char(
            func.date_trunc("minute", column), literal_column("'YYYY-MM-DD HH24:MI'")
        )
    return func.strftime("%Y-%m-%d %H:%M", column)


async def documents_per_minute(conn: AsyncConnection, since: datetime) -> dict[str, int]:
    """Accepted documents per minute ("YYYY-MM-DD HH:MM", UTC) received at or after ``since``."""
    minute = _minute(conn, documents.c.received_at).label("minute")
    rows = (
        await conn.execute(
            select(minute, func.count()).where(documents.c.received_at >= since).group_by(minute)
        )
    ).all()
    return {str(m): int(n) for m, n in rows}


async def decision_mix(conn: AsyncConnection) -> list[tuple[str, str, str, int]]:
    """(direction, regime, decision, entries) over the whole manifest."""
    rows = (
        await conn.execute(
            select(
                manifest.c.direction, manifest.c.regime, manifest.c.decision, func.count()
            ).group_by(manifest.c.direction, manifest.c.regime, manifest.c.decision)
        )
    ).all()
    return [(str(d or ""), str(r or ""), str(dec), int(n)) for d, r, dec, n in rows]


async def bundles_by_state(conn: AsyncConnection) -> dict[str, int]:
    """Bundles per state, counted as the queue counts them (rows that hold a document)."""
    rows = (
        await conn.execute(
            select(bundles.c.state, func.count())
            .where(bundles.c.version > 0)
            .group_by(bundles.c.state)
        )
    ).all()
    return {str(state): int(n) for state, n in rows}


async def exception_rules(conn: AsyncConnection) -> Counter[str]:
    """Bundles now in exception per error finding code."""
    counts: Counter[str] = Counter()
    result = await conn.execute(select(bundles.c.findings).where(bundles.c.state == "exception"))
    for findings in result.scalars():
        counts.update({f["code"] for f in findings or () if f.get("severity") == "error"})
    return counts


async def pending_by_age(conn: AsyncConnection, now: datetime, edges: list[timedelta]) -> list[int]:
    """Pending bundles per age band: younger than edges[0], ..., older than edges[-1]."""
    band = case(
        *[(bundles.c.first_seen_at > now - edge, i) for i, edge in enumerate(edges)],
        else_=len(edges),
    ).label("band")
    rows = (
        await conn.execute(
            select(band, func.count())
            .where(bundles.c.state == "pending", bundles.c.version > 0)
            .group_by(band)
        )
    ).all()
    out = [0] * (len(edges) + 1)
    for i, n in rows:
        out[int(i)] = int(n)
    return out
