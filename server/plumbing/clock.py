"""The one source of 'now' and of a compound's local day (tests freeze it with time-machine)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """Today's date in the given time zone."""
    return (now or utcnow()).astimezone(ZoneInfo(tz_name)).date()


def local_day_bounds(tz_name: str, day: date) -> tuple[datetime, datetime]:
    """The UTC start and end of a local calendar day."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)
