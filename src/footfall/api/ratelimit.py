"""Rate limits for the keyed APIs (DataFast, PostMetric, people, analytics): a fixed one-minute
window per API key (per client address without one), `FOOTFALL_API_RATE_PER_MINUTE` requests.

Every answer carries DataFast's `x-ratelimit-limit`, `x-ratelimit-remaining` and
`x-ratelimit-reset` (when the window ends, in ms since the epoch, as DataFast's live API); past
the limit, 429 with `Retry-After` (seconds) and `limit`, `remaining`, `reset` in the body. The
windows live in each server process.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Awaitable, Callable, Iterable

from fastapi import Request, Response

from footfall.api.auth import bearer
from footfall.api.errors import ApiError, dialect_for_path
from footfall.clock import Clock
from footfall.ids import hash_key

WINDOW_MS = 60_000


class WindowLimiter:
    def __init__(self, limit: int, window_ms: int = WINDOW_MS) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now_ms: int, n: int = 1) -> tuple[bool, int, int]:
        """(allowed, remaining, reset ms) for `n` more requests (or events) from `key`: all or none."""
        start = now_ms - now_ms % self.window_ms
        with self._lock:
            window, count = self._windows.get(key, (start, 0))
            if window != start:
                window, count = start, 0
                if len(self._windows) > 100_000:  # forget finished windows now and then
                    self._windows = {k: v for k, v in self._windows.items() if v[0] == start}
            allowed = count + n <= self.limit
            count += n if allowed else 0
            self._windows[key] = (window, count)
        return allowed, self.limit - count, window + self.window_ms


class CollectLimits:
    """Collect's limits (docs/reliability.md): events a minute per client address
    (`FOOTFALL_COLLECT_RATE_PER_MINUTE_IP`) and per site (`..._SITE`); 0 turns one off. A request
    over either is refused whole (429, nothing stored) and tells when to try again."""

    def __init__(self, per_ip: int, per_site: int) -> None:
        self.per_ip = WindowLimiter(per_ip) if per_ip > 0 else None
        self.per_site = WindowLimiter(per_site) if per_site > 0 else None

    def check(self, ip: str | None, sites: Iterable[str], n: int, now_ms: int) -> tuple[int, str] | None:
        """None when allowed, else (seconds to wait, why)."""
        if self.per_ip is not None:
            ok, _, reset = self.per_ip.hit(f"ip:{ip or ''}", now_ms, n)
            if not ok:
                return _wait(reset, now_ms), f"rate limit: {self.per_ip.limit} events a minute from one address"
        if self.per_site is not None:
            for site in set(sites):
                ok, _, reset = self.per_site.hit(f"site:{site}", now_ms, n)
                if not ok:
                    return _wait(reset, now_ms), f"rate limit: {self.per_site.limit} events a minute for this site"
        return None


def _wait(reset_ms: int, now_ms: int) -> int:
    return max(1, math.ceil((reset_ms - now_ms) / 1000))


def rate_limit(limiter: WindowLimiter, clock: Clock) -> Callable[[Request, Response], Awaitable[None]]:
    async def check(request: Request, response: Response) -> None:
        token = bearer(request)
        key = hash_key(token) if token else f"ip:{request.client.host if request.client else ''}"
        now = clock.now_ms()
        allowed, remaining, reset = limiter.hit(key, now)
        headers = {
            "x-ratelimit-limit": str(limiter.limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(reset),
        }
        if not allowed:
            headers["retry-after"] = str(max(1, math.ceil((reset - now) / 1000)))
            raise ApiError(
                429,
                f"Rate limit exceeded: {limiter.limit} requests a minute",
                dialect=dialect_for_path(request.url.path),
                headers=headers,
                extra={"limit": limiter.limit, "remaining": 0, "reset": reset},
            )
        response.headers.update(headers)

    return check


def floqer_rate_limit(
    per_minute: WindowLimiter, per_day: WindowLimiter, clock: Clock
) -> Callable[[Request, Response], Awaitable[None]]:
    """Floqer's limits (a minute's and a day's requests per key), its `x-ratelimit-*` headers and its
    429: `{"status": 429, "error": "Too Many Requests", "message": "Rate limit exceeded. Try again in
    42 seconds.", "retryAfter": 42}`."""

    async def check(request: Request, response: Response) -> None:
        token = bearer(request)
        key = hash_key(token) if token else f"ip:{request.client.host if request.client else ''}"
        now = clock.now_ms()
        minute_ok, minute_left, minute_reset = per_minute.hit(key, now)
        day_ok, day_left, day_reset = per_day.hit(key, now) if minute_ok else (True, per_day.limit, now)
        headers = {
            "x-ratelimit-limit": str(per_minute.limit),
            "x-ratelimit-remaining": str(max(0, minute_left)),
            "x-ratelimit-reset": str(minute_reset),
            "x-ratelimit-daily-limit": str(per_day.limit),
            "x-ratelimit-daily-remaining": str(max(0, day_left)),
        }
        if not (minute_ok and day_ok):
            wait = max(1, math.ceil(((minute_reset if not minute_ok else day_reset) - now) / 1000))
            raise ApiError(
                429,
                f"Rate limit exceeded. Try again in {wait} seconds.",
                dialect="floqer",
                headers=headers | {"retry-after": str(wait)},
                extra={"retryAfter": wait},
            )
        request.state.rate_headers = headers  # the Floqer routes answer with their own JSONResponse

    return check
