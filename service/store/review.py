"""Read queries behind the review UI and API: the exception queue and the dashboard figures.

The queue filters on columns of ``bundles``; the rule filter matches the stored findings JSON
as text, which both SQLite and PostgreSQL (``json``, kept as written) hold as the encoder
wrote it (``store.jsoncodec``). The search is a prefix of an order, waybill or invt number,
case-sensitive on both databases so both find the same: ``GLOB 'p*'`` on SQLite (whose LIKE
ignores case), ``LIKE 'p%'`` on PostgreSQL, each served by an index (migration 0009).

The dashboard counts through the queue's own conditions, so a figure and the queue under the
same filters say the same number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Text, case, cast, func, literal_column, or_, select, tuple_, union
from sqlalchemy.ext.asyncio import AsyncConnection

from service.clock import beijing_day_start
from service.store.tables import bundles, documents, manifest

Row = dict[str, Any]

# Every state a bundle can be in, in the order the queue and the dashboard list them: the
# decision's, then the lifecycle's after it (SPEC §10).
STATES = ("exception", "pending", "released", "rejected", "cancelled", "returned")
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
    # Inclusive calendar days (Beijing time) of the bundle's first document.
    since: date | None = None
    until: date | None = None
    # The start of an order number, a waybill number or an invtNo (the whole number too).
    search: str | None = None
    newest_first: bool = False


def _like_escaped(text: str) -> str:
    # `%` and `_` are LIKE wildcards, `\\` the escape character itself.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _glob_escaped(text: str) -> str:
    # GLOB has no escape character: a wildcard stands for itself inside brackets.
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def starts_with(column: Any, prefix: str, dialect: str) -> Any:
    """``column`` begins with ``prefix``, taken literally, in a form an index serves."""
    if dialect == "sqlite":
        return column.op("GLOB")(_glob_escaped(prefix) + "*")
    return column.like(_like_escaped(prefix) + "%", escape="\\")


def _conditions(f: QueueFilter, dialect: str, *, with_rule: bool = True) -> list[Any]:
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
        # in rows written before it (the stdlib encoder).
        escaped = _like_escaped(f.rule)
        text = cast(bundles.c.findings, Text)
        where.append(
            or_(*(text.like(f'%"code":{space}"{escaped}"%', escape="\\") for space in ("", " ")))
        )
    if f.enterprise:
        where.append(or_(*(column == f.enterprise for column in PARTY_COLUMNS)))
    if f.since:
        where.append(bundles.c.first_seen_at >= beijing_day_start(f.since))
    if f.until:
        where.append(bundles.c.first_seen_at < beijing_day_start(f.until + timedelta(days=1)))
    if f.search:
        # One id set per number, each read from its own index, joined by UNION: an OR of the
        # four would have PostgreSQL scan every bundle.
        found = union(
            *(
                select(bundles.c.id).where(starts_with(column, f.search, dialect))
                for column in (bundles.c.order_no, bundles.c.inv_logistics_no, bundles.c.invt_no)
            ),
            select(documents.c.bundle_id).where(
                # written out, not bound: a partial index serves only a literal it can match
                documents.c.kind == literal_column("'logistics'"),
                starts_with(documents.c.logistics_no, f.search, dialect),
                documents.c.bundle_id.is_not(None),
            ),
        )
        where.append(bundles.c.id.in_(found))
    # Rows `ensure` made for documents that were then refused hold nothing.
    where.append(bundles.c.version > 0)
    return where


async def queue_page(
    conn: AsyncConnection, f: QueueFilter, offset: int, limit: int
) -> tuple[list[Row], int]:
    """One page of bundles, oldest first unless asked otherwise, and the total."""
    where = _conditions(f, conn.dialect.name)
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


async def queue_chunk(
    conn: AsyncConnection, f: QueueFilter, after: tuple[datetime, int] | None, limit: int
) -> list[Row]:
    """Up to ``limit`` bundles in the queue's order after the (first_seen_at, id) ``after``: the
    whole queue a chunk at a time (the CSV export), each chunk one indexed range read."""
    where = _conditions(f, conn.dialect.name)
    key = tuple_(bundles.c.first_seen_at, bundles.c.id)
    if after is not None:
        where.append(key < tuple_(*after) if f.newest_first else key > tuple_(*after))
    order = (
        (bundles.c.first_seen_at.desc(), bundles.c.id.desc())
        if f.newest_first
        else (bundles.c.first_seen_at, bundles.c.id)
    )
    rows = (
        await conn.execute(select(bundles).where(*where).order_by(*order).limit(limit))
    ).mappings()
    return [dict(r) for r in rows.all()]


@dataclass(frozen=True, slots=True)
class RuleCounts:
    """Bundles per finding code: with the code at all (what the rule filter finds), and with
    it as an error or as a warning."""

    bundles: Counter[str]
    errors: Counter[str]
    warnings: Counter[str]


async def rule_counts(conn: AsyncConnection, f: QueueFilter) -> RuleCounts:
    """Bundles per finding code under every filter but the rule itself (so the counts show
    what picking a rule would leave)."""
    counts = RuleCounts(Counter(), Counter(), Counter())
    result = await conn.execute(
        select(bundles.c.findings).where(*_conditions(f, conn.dialect.name, with_rule=False))
    )
    for findings in result.scalars():
        found = findings or ()
        counts.bundles.update({finding["code"] for finding in found})
        counts.errors.update({x["code"] for x in found if x.get("severity") == "error"})
        counts.warnings.update({x["code"] for x in found if x.get("severity") == "warning"})
    return counts


async def state_counts(conn: AsyncConnection, f: QueueFilter) -> dict[str, int]:
    """Bundles per state under the filter's other conditions (its state ignored)."""
    where = _conditions(replace(f, state=None), conn.dialect.name)
    rows = (
        await conn.execute(
            select(bundles.c.state, func.count()).where(*where).group_by(bundles.c.state)
        )
    ).all()
    return {str(state): int(n) for state, n in rows}


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


async def decision_mix(
    conn: AsyncConnection, since: datetime | None, until: datetime | None
) -> list[tuple[str, str, str, int]]:
    """(direction, regime, decision, entries) of the manifest entries decided in [since, until)."""
    where = []
    if since is not None:
        where.append(manifest.c.decided_at >= since)
    if until is not None:
        where.append(manifest.c.decided_at < until)
    rows = (
        await conn.execute(
            select(manifest.c.direction, manifest.c.regime, manifest.c.decision, func.count())
            .where(*where)
            .group_by(manifest.c.direction, manifest.c.regime, manifest.c.decision)
        )
    ).all()
    return [(str(d or ""), str(r or ""), str(dec), int(n)) for d, r, dec, n in rows]


async def pending_by_age(
    conn: AsyncConnection, f: QueueFilter, now: datetime, edges: list[timedelta]
) -> list[int]:
    """Pending bundles (of the filter's other conditions) per age band: younger than edges[0],
    ..., older than edges[-1]."""
    band = case(
        *[(bundles.c.first_seen_at > now - edge, i) for i, edge in enumerate(edges)],
        else_=len(edges),
    ).label("band")
    rows = (
        await conn.execute(
            select(band, func.count())
            .where(*_conditions(replace(f, state="pending"), conn.dialect.name))
            .group_by(band)
        )
    ).all()
    out = [0] * (len(edges) + 1)
    for i, n in rows:
        out[int(i)] = int(n)
    return out
