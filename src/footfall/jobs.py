"""Background tasks: what runs, and how often."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from footfall.clock import Clock
from footfall.store.base import Store, Tx

log = logging.getLogger("footfall.jobs")
LEASE_MS = 15 * 60_000  # longer than any run


async def run_periodically(seconds: float, job: Callable[[], object]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)
        except Exception:  # a failing job must not stop the others; it is logged and retried
            log.exception("background job failed")


def take_lease(tx: Tx, name: str, holder: str, now: int, ttl_ms: int) -> bool:
    """Takes (or renews) the lease on job `name` unless another holder's lease is still running."""
    tx.execute("INSERT INTO job_leases (name, holder, until) VALUES (?, '', 0) ON CONFLICT (name) DO NOTHING", (name,))
    taken = tx.one(
        "UPDATE job_leases SET holder = ?, until = ? WHERE name = ? AND (until < ? OR holder = ?) RETURNING holder",
        (holder, now + ttl_ms, name, now, holder),
    )
    return taken is not None


def leased(
    store: Store, clock: Clock, name: str, holder: str, job: Callable[[], object], ttl_ms: int = LEASE_MS
) -> Callable[[], object]:
    """`job`, run only by the instance holding its lease: two instances on one database run it once
    at a time. The lease is given back when the run ends; an instance that dies holding it loses it
    after `ttl_ms`."""

    def run() -> object:
        if not store.write(lambda tx: take_lease(tx, name, holder, clock.now_ms(), ttl_ms)):
            return None  # another instance is running it
        try:
            return job()
        finally:
            store.write(
                lambda tx: tx.execute("UPDATE job_leases SET until = 0 WHERE name = ? AND holder = ?", (name, holder))
            )

    return run
