"""A short-lived cache of sites for the collect path (one read per site per few seconds)."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool

from footfall import accounts
from footfall.model import Site
from footfall.store.base import Store


class SiteCache:
    """Known sites live `ttl` seconds, unknown ids `negative_ttl` (so a new site shows up quickly)."""

    def __init__(self, store: Store, ttl: float = 5.0, negative_ttl: float = 1.0) -> None:
        self.store = store
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self._entries: dict[str, tuple[float, Site | None]] = {}

    async def get(self, site_id: str) -> Site | None:
        now = time.monotonic()
        hit = self._entries.get(site_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        site = await run_in_threadpool(self.store.read, lambda tx: accounts.get_site(tx, site_id))
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[site_id] = (now + (self.ttl if site else self.negative_ttl), site)
        return site

    def forget(self, site_id: str) -> None:
        self._entries.pop(site_id, None)
