"""Retention benchmark: a year of events, half of it past a site's retention, purged.

    python bench/retention.py [--per-month 400000] [--backends postgres,sqlite]

Each store gets twelve months of events (`--per-month` a month, in bulk) of a site that keeps 180
days, and the purge job (`retention.purge`) is timed as the hourly job runs it. Two cases per
store, in the same run on fresh databases with the same rows:

- `months alone`: the old months hold only that site's events. On PostgreSQL (events partitioned
  by month, migration 0011) each old month goes as one dropped partition;
- `months shared`: a second site that keeps everything has one event in each month too, so no
  month can be dropped and the site's old events go row by row (what every purge did before
  partitions, and what SQLite always does).

Printed: events deleted, partitions dropped and the time that took (the purge's first step), the
whole purge's time (the rest: the rows of the month the cutoff cuts, sessions, rollup slots), and
its time per million events deleted.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import add_site  # noqa: E402

from bench.ingest import drop_database, fresh_database  # noqa: E402
from footfall import accounts  # noqa: E402
from footfall.clock import ManualClock  # noqa: E402
from footfall.retention import DAY_MS, drop_expired_months, month_partitions, purge  # noqa: E402
from footfall.store import open_store  # noqa: E402
from footfall.store.base import Store  # noqa: E402

MONTHS = 12
RETENTION_DAYS = 180
COLUMNS = ("request_id", "site_num", "visitor_num", "session_num", "ts", "type", "href", "hostname", "path")
COLUMNS += ("user_agent",)


def month_start(now: datetime, back: int) -> int:
    year, month = divmod(now.year * 12 + now.month - 1 - back, 12)
    month += 1
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def events(site_num: int, lo: int, hi: int, n: int, rng: random.Random) -> list[tuple[Any, ...]]:
    out = []
    for i in range(n):
        ts = rng.randrange(lo, hi)
        path = f"/p{rng.randrange(400)}"
        out.append((f"{ts}.{i:06d}", site_num, i, i, ts, "pageview", "https://example.com" + path, "example.com", path))
    return [(*row, "Mozilla/5.0") for row in out]


def load(store: Store, rows: list[tuple[Any, ...]]) -> None:
    if store.dialect == "postgres":

        def go(tx: Any) -> None:
            with tx.conn.cursor() as cur, cur.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

        store.write(go)
        return
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    for i in range(0, len(rows), 100_000):
        store.write(lambda tx, c=rows[i : i + 100_000]: tx.executemany(sql, c))


def run(backend: str, shared: bool, per_month: int, work: Path) -> dict[str, Any]:
    settings = fresh_database(backend, work / f"{backend}-{shared}")
    now = datetime.now(UTC)
    clock = ManualClock(int(now.timestamp() * 1000))
    try:
        store = open_store(settings)
        site, _ = add_site(store, "example.com", clock.now_ms())
        other, _ = add_site(store, "example.org", clock.now_ms())
        nums = store.read(lambda tx: {r["id"]: r["num"] for r in tx.all("SELECT id, num FROM sites")})
        purge(store, clock)  # no retention yet: on PostgreSQL, the coming months' partitions
        rng = random.Random(7)
        if store.dialect == "postgres":  # the months of the year before, as the job made them then
            for back in range(MONTHS):
                store.write(lambda tx, b=back: tx.one("SELECT footfall_event_month(?) AS n", (month_start(now, b),)))
        for back in range(MONTHS):
            lo, hi = month_start(now, back), month_start(now, back - 1)
            hi = min(hi, clock.now_ms())
            rows = events(nums[site], lo, hi, per_month, rng)
            if shared:
                rows += events(nums[other], lo, hi, 1, rng)
            load(store, rows)
        before = store.read(lambda tx: tx.one("SELECT count(*) AS n FROM events"))["n"]
        parts = len(store.read(month_partitions)) if store.dialect == "postgres" else 0
        store.write(lambda tx: accounts.update_site_settings(tx, site, {"retention_days": RETENTION_DAYS}))
        started = time.perf_counter()
        if store.dialect == "postgres":  # the purge's first step, timed on its own
            drop_expired_months(store, {nums[site]: clock.now_ms() - RETENTION_DAYS * DAY_MS, nums[other]: None})
        drops = time.perf_counter() - started
        purge(store, clock)
        seconds = time.perf_counter() - started
        after = store.read(lambda tx: tx.one("SELECT count(*) AS n FROM events"))["n"]
        dropped = parts - len(store.read(month_partitions)) if store.dialect == "postgres" else 0
        store.close()
        return {"events": before, "deleted": before - after, "dropped": dropped, "seconds": seconds, "drops": drops}
    finally:
        drop_database(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-month", type=int, default=400_000)
    parser.add_argument("--backends", default="postgres,sqlite")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as work:
        for backend in args.backends.split(","):
            for shared in (False, True):
                r = run(backend, shared, args.per_month, Path(work))
                rows.append((backend, "months shared (row by row)" if shared else "months alone", r))
                print(backend, rows[-1][1], r, flush=True)
    print(
        "\n| store | case | events | deleted | months dropped | dropping them ms | purge ms | ms per million deleted |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend, case, r in rows:
        per = 1000 * r["seconds"] / (r["deleted"] / 1e6) if r["deleted"] else 0.0
        print(
            f"| {backend} | {case} | {r['events']:,} | {r['deleted']:,} | {r['dropped']} | {1000 * r['drops']:,.1f} | "
            f"{1000 * r['seconds']:,.1f} | {per:,.1f} |"
        )


if __name__ == "__main__":
    main()
