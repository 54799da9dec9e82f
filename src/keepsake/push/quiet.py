"""Quiet hours: whether an instant falls in a person's quiet window, and when it ends.

A window is a span of local wall-clock times in the person's zone, `start` to `end`,
crossing midnight when `start > end`. Each night's window is made one interval of real
instants: it starts at the first instant the zone's clocks show `start` on that local
date and ends at the first instant they show `end` (on the next date when it crosses
midnight). So across daylight-saving changes:

- a time the clocks skip (02:30 on a spring-forward night) is reached when they jump
  past it (03:00 the new time), never an hour late;
- a time the clocks show twice (02:30 on a fall-back night) counts at its first
  showing, so a night never has two windows and never two digests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The named zone; UTC for a name this machine's tz database does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    """What the clocks in `tz` show at `instant`. Through UTC: `astimezone` to the zone an
    aware datetime already carries returns it untouched, skipped time and all."""
    return instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def first_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clocks in `tz` show `at` on `day`, or later.

    For a repeated time that is its first showing (fold=0). For a skipped time it is
    the jump itself: the first instant the clocks show a time after it.
    """
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0)
    if _wall(first, tz) == wall:
        return first.astimezone(UTC)
    # In a gap, fold=1 maps to just before the jump and fold=0 to just after; the jump
    # sits between, on a whole second, so a search over seconds finds it exactly.
    low = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), tz) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def quiet_until(
    now: datetime, zone_name: str, start: time | None, end: time | None
) -> datetime | None:
    """When the quiet window holding `now` ends (UTC); None when `now` is not quiet."""
    if start is None or end is None or start == end:
        return None
    tz = zone(zone_name)
    today = now.astimezone(tz).date()
    crosses_midnight = start > end
    # Only the window that began yesterday (crossing into today) or today can hold now.
    for day in (today - timedelta(days=1), today):
        begins = first_instant(day, start, tz)
        ends = first_instant(day + timedelta(days=1) if crosses_midnight else day, end, tz)
        if begins <= now < ends:
            return ends
    return None
