"""Login throttling (docs/reliability.md, "Logins"): wrong passwords are counted per client
address and per account over a sliding window; past the limit a login is answered 429 with
`Retry-After` before any password is hashed. A login in progress counts as a failure until it
succeeds, so forty at once are stopped like forty in a row.

Password checks run in a pool of their own (`PasswordChecks`), never on the event loop or in the
thread pool the API's reads use, and at most `queue` of them wait: Argon2id costs 19 MiB and tens
of milliseconds each, and a flood of logins must not take the API's threads or the machine's
memory. The counts are each server process's own (several instances each throttle what they see).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
WINDOW_S = 15 * 60
PER_ADDRESS = 10  # wrong passwords a client address may try in the window
PER_ACCOUNT = 20  # wrong passwords an email may be tried with in the window, from anywhere


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class LoginThrottle:
    monotonic: Callable[[], float] = time.monotonic
    failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self.failures.setdefault(key, deque())
        while times and times[0] <= now - WINDOW_S:
            times.popleft()
        return times

    def begin(self, address: str, email: str) -> tuple[str, str]:
        """Counts an attempt (as a failure until `succeeded`); `Throttled` past a limit."""
        now = self.monotonic()
        keys = (f"ip:{address}", f"account:{email.strip().lower()}")
        for key, limit in zip(keys, (PER_ADDRESS, PER_ACCOUNT), strict=True):
            times = self._recent(key, now)
            if len(times) >= limit:
                raise Throttled(max(1, int(times[0] + WINDOW_S - now) + 1))
        for key in keys:
            self.failures[key].append(now)
        if len(self.failures) > 100_000:  # addresses seen once long ago
            for key in [k for k, v in self.failures.items() if not self._recent(k, now)]:
                del self.failures[key]
        return keys

    def succeeded(self, keys: tuple[str, str]) -> None:
        """A right password: this attempt is not a failure, and the address starts afresh."""
        for key in keys:
            times = self.failures.get(key)
            if times:
                times.pop()
        self.failures.pop(keys[0], None)


class Busy(Exception):
    """More password checks are waiting than the pool takes."""


def _lower_priority() -> None:
    """Each hashing thread runs niced (Linux schedules threads on their own), so a flood of
    logins takes the CPU the event loop leaves, not the loop's share."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class PasswordChecks:
    """A small pool for Argon2id and scrypt, niced, with a bound on how many wait."""

    def __init__(self, workers: int = 2, queue: int = 8) -> None:
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="footfall-passwords", initializer=_lower_priority)
        self.limit = workers + queue
        self.running = 0

    async def run(self, fn: Callable[[], T]) -> T:
        if self.running >= self.limit:
            raise Busy
        self.running += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn)
        finally:
            self.running -= 1

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
