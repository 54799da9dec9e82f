"""A repeated event is one line per interval with its count, not a line per occurrence."""

from __future__ import annotations

from typing import Any

from keepsake.eventlog import RepeatedEvent


class Lines:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def test_an_outage_of_a_minute_writes_a_line_per_interval_with_counts() -> None:
    now = [0.0]
    logger = Lines()
    event = RepeatedEvent(logger, "database.unavailable", interval_s=10, clock=lambda: now[0])

    for tick in range(600):  # ten failing requests a second for a minute
        now[0] = tick / 10
        event.record(path="/v1/feed/home")

    assert len(logger.lines) == 6
    first, *summaries = logger.lines
    assert first == ("database.unavailable", {"count": 1, "seconds": None, "path": "/v1/feed/home"})
    assert [fields["count"] for _, fields in summaries] == [100] * 5
    assert all(fields["seconds"] == 10.0 for _, fields in summaries)
