"""Time as a dependency, so tests can move it (sessions, rate limits, retention)."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that stands still until told to move; for tests."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = start_ms if start_ms is not None else SystemClock().now_ms()
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance(self, *, minutes: float = 0, seconds: float = 0, ms: int = 0) -> None:
        with self._lock:
            self._now += int(minutes * 60_000 + seconds * 1000 + ms)
