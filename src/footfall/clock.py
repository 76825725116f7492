"""Time as a dependency, so tests can move it (sessions, rate limits, retention)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


def iso_ms(ms: int | None) -> str | None:
    """ISO 8601 in UTC with milliseconds (`2026-11-29T14:37:29.120Z`), the APIs' timestamp form."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


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
