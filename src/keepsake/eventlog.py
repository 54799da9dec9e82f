"""Repeated events logged as one line per interval with a count, not one line per occurrence.

During a database outage every request fails the same way: a line each wrote megabytes a
minute and buried everything else. The first occurrence is logged at once (an operator sees
the outage start), later ones are counted and summed up at most once per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class Logger(Protocol):
    def warning(self, event: str, **fields: Any) -> Any: ...


class RepeatedEvent:
    def __init__(
        self,
        logger: Logger,
        event: str,
        *,
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._event = event
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._logged_at: float | None = None
        self._unlogged = 0

    def record(self, **fields: Any) -> None:
        """One occurrence; `fields` describe it (the latest ones go into a summary line)."""
        now = self._clock()
        with self._lock:
            self._unlogged += 1
            if self._logged_at is not None and now - self._logged_at < self._interval_s:
                return
            count, self._unlogged = self._unlogged, 0
            since = None if self._logged_at is None else round(now - self._logged_at, 1)
            self._logged_at = now
        self._logger.warning(self._event, count=count, seconds=since, **fields)
