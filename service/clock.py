"""UTC time, its one text form in answers, and Beijing time for the review UI."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Sandan writes is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


# Customs keeps Beijing time (UTC+8, no daylight saving since 1991): the review UI shows times
# and takes calendar days in it. The fixed offset stands in where the system has no tz data.
try:
    BEIJING: tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without tz data
    BEIJING = timezone(timedelta(hours=8), "CST")


def beijing(value: datetime | str | None) -> str:
    """A UTC instant (a datetime or its ``iso`` text) as Beijing wall time, to the second."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return as_utc(value).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def beijing_day_start(day: date) -> datetime:
    """The UTC instant a Beijing calendar day begins."""
    return datetime.combine(day, time.min, BEIJING).astimezone(UTC)


def beijing_today(now: datetime) -> date:
    return as_utc(now).astimezone(BEIJING).date()
