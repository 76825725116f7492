"""Impossible speed: one browser viewing pages faster than a person reads them (docs/bots.md).

Per site and browser (its visitor id, or its address and user agent when it sends none), the
times of its last `LIMIT` page views are kept in memory; a page view that would make `LIMIT` of
them fall within `WINDOW_MS` is dropped as `too_fast`. A person reading, even skimming, does not
open 30 pages in a minute; a crawler running the page's script does, and is cut off after its
first 30 (those were counted before it showed its speed). The memory is bounded: the least
recently seen browsers are forgotten past `CAPACITY`.
"""

from __future__ import annotations

from collections import OrderedDict, deque

LIMIT = 30
WINDOW_MS = 60_000
CAPACITY = 100_000


class Pace:
    def __init__(self, limit: int = LIMIT, window_ms: int = WINDOW_MS, capacity: int = CAPACITY) -> None:
        self.limit, self.window_ms, self.capacity = limit, window_ms, capacity
        self._seen: OrderedDict[tuple[str, ...], deque[int]] = OrderedDict()

    def too_fast(self, key: tuple[str, ...], now_ms: int) -> bool:
        """Records a page view of `key` at `now_ms` unless it is one too many."""
        times = self._seen.get(key)
        if times is None:
            times = self._seen[key] = deque(maxlen=self.limit)
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        if len(times) == self.limit and now_ms - times[0] < self.window_ms:
            return True
        times.append(now_ms)
        return False
