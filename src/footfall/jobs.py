"""Background tasks: what runs, and how often."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from footfall.clock import Clock
from footfall.store.base import Store, Tx

log = logging.getLogger("footfall.jobs")


async def run_periodically(seconds: float, job: Callable[[], object]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)
        except Exception:  # a failing job must not stop the others; it is logged and retried
            log.exception("background job failed")


def flush_drops(store: Store, drops: Counter[tuple[str, str]], clock: Clock) -> None:
    """Adds the drop counts gathered in memory to `drop_counts` (per site, reason and UTC day).

    Drops are counted in memory on the collect path (no write per dropped event) and
    flushed every few seconds and at shutdown; a crash loses at most those seconds of counts.
    """
    pending = dict(drops)
    if not pending:
        return
    for key, n in pending.items():
        drops[key] -= n
        if drops[key] <= 0:
            del drops[key]
    day = datetime.fromtimestamp(clock.now_ms() / 1000, UTC).strftime("%Y-%m-%d")

    def add(tx: Tx) -> None:
        tx.executemany(
            "INSERT INTO drop_counts (site_id, reason, day, count) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (site_id, reason, day) DO UPDATE SET count = drop_counts.count + excluded.count",
            [(site, reason, day, n) for (site, reason), n in pending.items()],
        )

    store.write(add)
