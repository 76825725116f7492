"""Import benchmark ([T3]): RetailRocket's real clickstream through `footfall import`, checked
exactly against an independent computation, timed beside the SQL it issues.

    python bench/import.py [--events 0 (all)] [--backends sqlite,postgres] [--no-kill]

1. The development part of RetailRocket (../shared/data/retailrocket/events-dev.csv.gz: 1.9
   million events of a real shop with their own times) becomes footfall's JSONL in a temporary
   directory (never kept): a `view` is a page view of `/item/<id>`, an `addtocart` the goal
   `add_to_cart`, a `transaction` the goal `purchase` (the file has no amounts: no revenue is made
   up), the visitor is `rr:<visitorid>`.
2. import: the importer (importing/runner.py, as `footfall import` runs it) on a fresh store,
   every statement of its write transactions recorded; CPU and wall time.
3. SQL alone (the floor, bench/writer.py's method): the recorded statements replayed, one
   transaction a batch, on a copy of the same fresh store.
4. Exactness: visitors, sessions (30 minutes idle), page views, goals and purchases per UTC day
   from the store, against the same computed from the CSV by this script alone.
5. Again: importing the same file a second time adds nothing.
6. Killed: `footfall import` in a process of its own, SIGKILLed a third of the way, then run
   again: the counts are the same exact ones.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import add_site  # noqa: E402

from bench.ingest import cpu_seconds, drop_database, fresh_database  # noqa: E402
from bench.writer import copy_store  # noqa: E402
from footfall import accounts  # noqa: E402
from footfall.clock import SystemClock  # noqa: E402
from footfall.enrich.geo import GeoLookup  # noqa: E402
from footfall.enrich.networks import HostingNetworks  # noqa: E402
from footfall.ids import LinkSigner, VisitorSigner  # noqa: E402
from footfall.importing.runner import Importer  # noqa: E402
from footfall.ingest.writer import EventWriter  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402
from footfall.store.base import Store, Tx  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "retailrocket" / "events-dev.csv.gz"
DOMAIN = "shop.example.com"
IDLE_MS = 30 * 60_000
DAY_MS = 86_400_000
GOALS = {"addtocart": "add_to_cart", "transaction": "purchase"}


def convert(limit: int, target: Path) -> tuple[int, dict[str, Counter[int]]]:
    """The CSV as footfall's JSONL, and the independent per-day counts (sessions by start day)."""
    per_day: dict[str, Counter[int]] = defaultdict(Counter)
    last: dict[str, int] = {}
    visitors_of_day: dict[int, set[str]] = defaultdict(set)
    count = 0
    with gzip.open(DATA, "rt", newline="") as f, target.open("w") as out:
        for row in csv.DictReader(f):
            if limit and count >= limit:
                break
            ts, who, kind = int(row["timestamp"]), row["visitorid"], row["event"]
            event: dict[str, Any] = {
                "timestamp": ts,
                "visitorId": f"rr:{who}",
                "href": f"https://{DOMAIN}/item/{row['itemid']}",
            }
            if kind in GOALS:
                event |= {"type": "custom", "extraData": {"eventName": GOALS[kind]}}
            out.write(json.dumps(event) + "\n")
            count += 1
            day = ts // DAY_MS
            if who not in last or ts - last[who] > IDLE_MS:  # the file is in time order
                per_day["sessions"][day] += 1
                visitors_of_day[day].add(who)
            last[who] = max(last.get(who, ts), ts)
            per_day["pageviews" if kind == "view" else GOALS[kind]][day] += 1
    per_day["visitors"] = Counter({d: len(v) for d, v in visitors_of_day.items()})
    return count, per_day


def counted(store: Store, site_num: int) -> dict[str, Counter[int]]:
    """The same counts, from what footfall stored."""

    def go(tx: Tx) -> dict[str, Counter[int]]:
        out: dict[str, Counter[int]] = defaultdict(Counter)
        for r in tx.all(
            f"SELECT started_at / {DAY_MS} AS day, COUNT(*) AS n, COUNT(DISTINCT visitor_num) AS v FROM sessions "
            f"WHERE site_num = ? GROUP BY started_at / {DAY_MS}",
            (site_num,),
        ):
            out["sessions"][int(r["day"])] = int(r["n"])
            out["visitors"][int(r["day"])] = int(r["v"])
        for r in tx.all(
            f"SELECT ts / {DAY_MS} AS day, type, name, COUNT(*) AS n FROM events WHERE site_num = ? "
            f"GROUP BY ts / {DAY_MS}, type, name",
            (site_num,),
        ):
            out["pageviews" if r["type"] == "pageview" else str(r["name"])][int(r["day"])] += int(r["n"])
        return out

    return store.read(go)


def differences(expected: dict[str, Counter[int]], got: dict[str, Counter[int]]) -> list[str]:
    return [
        f"{what} on day {day}: {expected[what][day]} expected, {got[what][day]} stored"
        for what in expected
        for day in sorted(set(expected[what]) | set(got[what]))
        if expected[what][day] != got[what][day]
    ]


class Recorded:
    """The store the importer writes through, recording each write transaction's statements."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.jobs: dict[int, list[tuple[str, Any, tuple[Any, ...]]]] = {}  # in the order they first ran
        self.tokens = itertools.count()

    @property
    def transactions(self) -> list[list[tuple[str, Any, tuple[Any, ...]]]]:
        return list(self.jobs.values())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def _recording(self, fn: Callable[[Tx], Any]) -> Callable[[Tx], Any]:
        token = next(self.tokens)

        def run(tx: Tx) -> Any:  # a job the store retries alone after a failed group: its last run counts
            calls: list[tuple[str, Any, tuple[Any, ...]]] = []
            self.jobs[token] = calls
            try:
                return fn(_Tx(tx, calls))
            except BaseException:
                del self.jobs[token]
                raise

        return run

    def submit(self, fn: Callable[[Tx], Any]) -> Any:
        return self.store.submit(self._recording(fn))

    def write(self, fn: Callable[[Tx], Any]) -> Any:
        return self.submit(fn).result()


class _Tx:
    def __init__(self, tx: Tx, calls: list[tuple[str, Any, tuple[Any, ...]]]) -> None:
        self._tx, self._calls = tx, calls
        self.dialect = tx.dialect

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tx, name)

        def call(first: Any, *rest: Any) -> Any:
            if name == "executemany":
                rest = (list(rest[0]),)
            self._calls.append((name, first, rest))
            return method(first, *rest)

        return call


def measure(work: Callable[[], Any], pid: int | None) -> tuple[float, float]:
    cpu0, wall0 = time.process_time() + (cpu_seconds(pid) if pid else 0.0), time.perf_counter()
    work()
    return time.process_time() + (cpu_seconds(pid) if pid else 0.0) - cpu0, time.perf_counter() - wall0


def backend_pid(store: Store, settings: Settings) -> int | None:
    """The PostgreSQL backend of the store's writer connection (its CPU counts too)."""
    if not settings.uses_postgres:
        return None
    return int(store.write(lambda tx: tx.one("SELECT pg_backend_pid() AS pid"))["pid"])


class Timed(EventWriter):
    """The event writer, with the wall time it spends (identification, sessions, the SQL but the
    commit): how busy the writer thread is while the reader process prepares the next batch."""

    busy = 0.0

    def __call__(self, tx: Tx, events: Any) -> Any:
        started = time.perf_counter()
        try:
            return super().__call__(tx, events)
        finally:
            self.busy += time.perf_counter() - started


def importer(store: Any, settings: Settings, secret: bytes) -> Importer:
    hosting = HostingNetworks(())
    window = settings.match_window_days * DAY_MS
    writer = Timed(VisitorSigner(secret), LinkSigner(secret), IDLE_MS, window, hosting)
    return Importer(store, writer, GeoLookup([], []), SystemClock(), hosting)


def killed_run(settings: Settings, site: str, jsonl: Path, total: int) -> None:
    """`footfall import` killed with SIGKILL a third of the way, then run again to the end."""
    env = {**os.environ, "FOOTFALL_DATA_DIR": str(settings.data_path)}
    if settings.uses_postgres:
        env["FOOTFALL_DATABASE_URL"] = settings.database_url
    command = [sys.executable, "-m", "footfall", "import", str(jsonl), "--site", site, "--quiet"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    store = open_store(settings)
    try:
        while proc.poll() is None:
            row = store.read(lambda tx: tx.one("SELECT lines_done FROM imports"))
            if row and row["lines_done"] >= total // 3:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.2)
        proc.wait()
        at = store.read(lambda tx: tx.one("SELECT lines_done FROM imports"))["lines_done"]
    finally:
        store.close()
    print(f"  killed at line {at:,} of {total:,}; running again", flush=True)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def bench_backend(backend: str, jsonl: Path, total: int, expected: dict[str, Counter[int]], workdir: Path,
                  kill: bool) -> dict[str, Any]:  # fmt: skip
    settings = fresh_database(backend, workdir / backend)
    store = open_store(settings)
    site_id, _ = add_site(store, DOMAIN, int(time.time() * 1000), settings={})
    path = str(getattr(store, "path", ""))
    store.close()
    copy, copy_path = copy_store(settings, path, workdir / backend)
    secret = b"bench-import-secret-0123456789abcdef"
    result: dict[str, Any] = {"backend": backend, "events": total}
    try:
        store = open_store(settings)
        site = store.read(lambda tx: accounts.get_site(tx, site_id))
        recorded = Recorded(store)
        run = importer(recorded, settings, secret)
        report: list[Any] = []
        result["import"] = measure(
            lambda: report.append(run.run(jsonl, site_id, "jsonl")), backend_pid(store, settings)
        )
        assert report[0].imported == total, report[0]
        result["busy"] = run.writer.busy  # type: ignore[attr-defined]
        result["exact"] = differences(expected, counted(store, site.num))
        again = run.run(jsonl, site_id, "jsonl")
        result["again"] = again.already and not differences(expected, counted(store, site.num))
        store.close()

        floor = open_store(copy)

        def replay() -> None:
            for calls in recorded.transactions:

                def go(tx: Tx, calls: list[tuple[str, Any, tuple[Any, ...]]] = calls) -> None:
                    for method, first, rest in calls:
                        getattr(tx, method)(first, *rest)

                floor.write(go)

        result["floor"] = measure(replay, backend_pid(floor, copy))
        floor.close()
        if kill:
            drop_database(copy)
            second = fresh_database(backend, workdir / (backend + "-kill"))
            s2 = open_store(second)
            site2, _ = add_site(s2, DOMAIN, int(time.time() * 1000), settings={})
            num2 = s2.read(lambda tx: accounts.get_site(tx, site2)).num
            s2.close()
            killed_run(second, site2, jsonl, total)
            s2 = open_store(second)
            result["killed"] = differences(expected, counted(s2, num2))
            s2.close()
            drop_database(second)
    finally:
        drop_database(settings)
        drop_database(copy)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=0, help="the first N events (0: all 1.9 million)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} is beside the project only")
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "retailrocket.jsonl"
        total, expected = convert(args.events, jsonl)
        sessions = sum(expected["sessions"].values())
        print(f"{total:,} events, {sessions:,} sessions over {len(expected['sessions'])} days", flush=True)
        results = [
            bench_backend(b, jsonl, total, expected, Path(tmp), not args.no_kill) for b in args.backends.split(",")
        ]
    print("\n| backend | run | CPU µs/event | wall µs/event | events/s | vs the SQL floor |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in results:
        floor_rate = r["events"] / r["floor"][1]
        for name, (cpu, wall) in (("footfall import", r["import"]), ("its SQL alone (floor)", r["floor"])):
            rate = r["events"] / wall
            print(f"| {r['backend']} | {name} | {cpu / r['events'] * 1e6:.1f} | {wall / r['events'] * 1e6:.1f} | "
                  f"{rate:,.0f} | {rate / floor_rate:.0%} |")  # fmt: skip
    for r in results:
        busy, wall = r["busy"], r["import"][1]
        print(f"\n{r['backend']}: the writer was busy {busy / wall:.0%} of the import's wall time "
              f"({busy / r['events'] * 1e6:.1f} µs an event without the commit; its SQL with the commit: "
              f"{r['floor'][1] / r['events'] * 1e6:.1f} µs)")  # fmt: skip
    print("\n| backend | per-day counts vs the CSV | imported again | killed and resumed |")
    print("| --- | --- | --- | --- |")
    for r in results:
        exact = "exact" if not r["exact"] else f"{len(r['exact'])} differ: {r['exact'][:3]}"
        killed = "not run" if "killed" not in r else "exact" if not r["killed"] else f"{len(r['killed'])} differ"
        print(f"| {r['backend']} | {exact} | {'nothing added' if r['again'] else 'CHANGED'} | {killed} |")


if __name__ == "__main__":
    main()
