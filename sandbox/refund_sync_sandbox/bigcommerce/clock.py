"""A clock a rehearsal can move by hand, so quota windows pass without anyone sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()


class ManualClock:
    """Seconds since the epoch, like time.time(), but only moving when told to."""

    def __init__(self, start: float = _START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
