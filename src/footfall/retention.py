"""Retention (docs/reliability.md): a site's `retention_days` keeps its visit data that long.

The purge job (hourly, under a lease) deletes, per site, in short transactions of at most
`CHUNK` rows: events and identification requests older than the cutoff, visits that ended before
it, the rollup slots before it, and visitors left with nothing (no visit, no person, no payment),
with their scores. People (first-party contacts the owner was given) and payments (the owner's
books) are kept; erase them through the deletion APIs.

On PostgreSQL events are partitioned by month (migration 0011): first, a month's partition whose
every site keeps less than it (each site with a row in it has a retention cutoff at or past the
month's end) is dropped whole, in milliseconds; what is left (months shared with a site that keeps
more, the default partition, SQLite) goes row by row. The same job creates the coming months'
partitions ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from footfall.clock import Clock
from footfall.rollups import SLOT_MS
from footfall.store.base import Store, Tx, loads

DAY_MS = 86_400_000
PURGE_INTERVAL_S = 3600.0
CHUNK = 5_000


def retention_days(settings: dict[str, object]) -> int:
    days = settings.get("retention_days")
    return days if isinstance(days, int) and days > 0 else 0


def purge(store: Store, clock: Clock) -> int:
    """Deletes what every site keeps past its retention; answers how many rows went."""
    sites = store.read(lambda tx: tx.all("SELECT num, id, settings FROM sites ORDER BY num"))
    now = clock.now_ms()
    cutoffs = {s["num"]: now - d * DAY_MS if (d := retention_days(loads(s["settings"]))) else None for s in sites}
    total = 0
    if store.dialect == "postgres":
        store.write(lambda tx: months_ahead(tx, now))
        total += drop_expired_months(store, cutoffs)
    for site in sites:
        if (cutoff := cutoffs[site["num"]]) is not None:
            total += purge_site(store, site["num"], site["id"], cutoff)
    return total


def purge_site(store: Store, site_num: int, site_id: str, cutoff: int) -> int:
    steps = (
        ("events", f"id IN (SELECT id FROM events WHERE site_num = ? AND ts < ? LIMIT {CHUNK})", (site_num, cutoff)),
        (
            "identifications",
            f"request_id IN (SELECT request_id FROM identifications WHERE site_num = ? AND ts < ? LIMIT {CHUNK})",
            (site_num, cutoff),
        ),
        (
            "sessions",
            # a visit that ended before the cutoff has no event left (they all came before its end)
            f"num IN (SELECT num FROM sessions WHERE site_num = ? AND last_seen < ? LIMIT {CHUNK})",
            (site_num, cutoff),
        ),
        (
            "pending_goals",
            f"num IN (SELECT num FROM pending_goals WHERE site_num = ? AND ts < ? LIMIT {CHUNK})",
            (site_num, cutoff),
        ),
        ("rollup_columns", "site_num = ? AND slot < ?", (site_num, cutoff - SLOT_MS)),
        ("rollups", "site_num = ? AND slot < ?", (site_num, cutoff - SLOT_MS)),
    )
    total = 0
    for table, where, params in steps:
        while True:

            def go(tx: Tx, t: str = table, w: str = where, p: tuple[object, ...] = params) -> int:
                return _delete(tx, t, w, p)

            n = store.write(go)
            total += n
            if n < CHUNK or table.startswith("rollup"):
                break
    while True:  # visitors left with nothing
        n = store.write(lambda tx: _forget_empty_visitors(tx, site_id))
        total += n
        if n < CHUNK:
            break
    return total


def _delete(tx: Tx, table: str, where: str, params: tuple[object, ...]) -> int:
    return len(tx.all(f"DELETE FROM {table} WHERE {where} RETURNING 1 AS x", params))


def _forget_empty_visitors(tx: Tx, site_id: str) -> int:
    rows = tx.all(
        "SELECT v.num FROM visitors v WHERE v.site_id = ? AND v.person_num IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.visitor_num = v.num) "
        "AND NOT EXISTS (SELECT 1 FROM visitors a WHERE a.alias_of = v.num) "
        "AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.visitor_num = v.num) "
        "AND NOT EXISTS (SELECT 1 FROM identifications i WHERE i.visitor_num = v.num) "
        f"LIMIT {CHUNK}",
        (site_id,),
    )
    nums = [r["num"] for r in rows]
    if nums:
        marks = ", ".join("?" * len(nums))
        tx.execute(f"DELETE FROM visitor_scores WHERE visitor_num IN ({marks})", nums)
        tx.execute(f"DELETE FROM visitors WHERE num IN ({marks})", nums)
    return len(nums)


def months_ahead(tx: Tx, now: int, ahead: int = 2) -> None:
    """PostgreSQL: the partitions of this month and the next `ahead` exist (events of a month
    without one land in the default partition, which is read like any other)."""
    for i in range(ahead + 1):
        tx.one("SELECT footfall_event_month(?) AS name", (now + i * 31 * DAY_MS,))


def month_partitions(tx: Tx) -> list[tuple[str, int]]:
    """PostgreSQL: (name, end in ms) of each month partition of `events`, oldest first."""
    rows = tx.all(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass AND c.relname <> 'events_default'"
    )
    found = []
    for r in rows:
        year, month = (int(x) for x in r["name"].removeprefix("events_").split("_"))
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        found.append((r["name"], int(end.timestamp() * 1000)))
    return sorted(found, key=lambda p: p[1])


def drop_expired_months(store: Store, cutoffs: dict[int, int | None]) -> int:
    """Drops each month partition every site in it has let go; answers how many rows went."""
    latest = max((c for c in cutoffs.values() if c is not None), default=None)
    if latest is None:
        return 0
    total = 0
    for name, end in store.read(month_partitions):
        if end > latest:
            break

        def drop(tx: Tx, name: str = name, end: int = end) -> int:
            tx.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")  # no row comes in meanwhile
            for site_num, cutoff in cutoffs.items():
                if (cutoff is None or cutoff < end) and tx.one(
                    f"SELECT 1 AS x FROM {name} WHERE site_num = ? LIMIT 1", (site_num,)
                ):
                    return 0  # a site keeps some of this month
            row = tx.one(f"SELECT count(*) AS n FROM {name}")
            tx.execute(f"ALTER TABLE events DETACH PARTITION {name}")
            tx.execute(f"DROP TABLE {name}")
            return int(row["n"]) if row else 0

        total += store.write(drop)
    return total
