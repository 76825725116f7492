"""Visitors of the cookieless script (`/js/script.cookieless.js`), which stores nothing in the
browser (docs/tracker.md).

Its events carry `cookieless: true` and no id. The visitor is a key made on the server:
HMAC-SHA256 of the site, the client address and the user agent under a salt drawn at random for
each UTC day, kept in `daily_salts` (shared by every instance) and deleted once it is older than
yesterday, so no one can recompute a past day's keys. The key lives in the client namespace
(`visitors.client_key`, prefixed `cl:`), like a server-side sender's ids, so it can never join a
visitor of the cookie script. A new day means a new visitor (no cross-day linking, as DataFast's
cookieless mode), except for a visit under way at midnight: during the first idle window of a day
an event whose yesterday's key was active within that window keeps yesterday's visitor.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool

from footfall.clock import Clock
from footfall.store.base import Store, Tx

DAY_MS = 86_400_000
PREFIX = "cl:"


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def visitor_key(salt: str, site_id: str, ip: str | None, user_agent: str) -> str:
    message = f"{site_id}\n{ip or ''}\n{user_agent}".encode()
    return PREFIX + hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:40]


class CookielessIds:
    def __init__(self, store: Store, clock: Clock, idle_ms: int) -> None:
        self.store = store
        self.clock = clock
        self.idle_ms = idle_ms
        self._salts: dict[str, str | None] = {}
        self._lock = threading.Lock()

    async def key(self, site_id: str, ip: str | None, user_agent: str) -> str:
        now = self.clock.now_ms()
        today = day_of(now)
        salt = self._salts.get(today) or await run_in_threadpool(self._salt, today, True)
        assert salt is not None
        key = visitor_key(salt, site_id, ip, user_agent)
        if now % DAY_MS < self.idle_ms:  # just after midnight: a visit may be going on
            yesterday = (datetime.strptime(today, "%Y-%m-%d") - timedelta(days=1)).strftime("%Y-%m-%d")
            old_salt = self._salts.get(yesterday) or await run_in_threadpool(self._salt, yesterday, False)
            if old_salt is not None:
                old = visitor_key(old_salt, site_id, ip, user_agent)
                if await run_in_threadpool(self._active, site_id, old, now - self.idle_ms):
                    return old
        return key

    def _salt(self, day: str, create: bool) -> str | None:
        def go(tx: Tx) -> str | None:
            if create:
                tx.execute(
                    "INSERT INTO daily_salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING",
                    (day, secrets.token_hex(32)),
                )
                tx.execute("DELETE FROM daily_salts WHERE day < ?", (_before(day),))
            row = tx.one("SELECT salt FROM daily_salts WHERE day = ?", (day,))
            return row["salt"] if row else None

        salt = self.store.write(go) if create else self.store.read(go)
        with self._lock:
            if salt is not None:
                self._salts = {k: v for k, v in self._salts.items() if k >= _before(day)} | {day: salt}
        return salt

    def _active(self, site_id: str, key: str, since: int) -> bool:
        row = self.store.read(
            lambda tx: tx.one(
                "SELECT 1 AS x FROM visitors v JOIN sessions s ON s.visitor_num = v.num "
                "WHERE v.site_id = ? AND v.client_key = ? AND s.last_seen >= ? LIMIT 1",
                (site_id, key, since),
            )
        )
        return row is not None


def _before(day: str) -> str:
    """The day before `day`: salts older than it are deleted."""
    return (datetime.strptime(day, "%Y-%m-%d") - timedelta(days=1)).strftime("%Y-%m-%d")
