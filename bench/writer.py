"""Writer benchmark: what the event writer spends an event, against the bare SQL it issues, in the same run.

    python bench/writer.py [--events 150000] [--group 1000] [--backends sqlite,postgres]

The batch target of issue F1 (50,000 events/s on SQLite, two cores) leaves the writer process
under 20 µs of CPU an event. This bench measures the writer alone, without HTTP:

1. Events: bench/ingest.py's generator (60% returning visitors drawn from 5,000 client ids, real
   user agents and addresses per 500-event request, pages, referrers, campaigns), decoded and run
   through the real pipeline (validation, drop steps, user agent, geo and network with the MaxMind
   test databases when ../shared has them, referrer) in this process, spaced in time as 50,000
   events/s would be, and encoded as the server hands them to the writer process.
2. writer: the groups of `--group` events decoded and written by the writer process's own
   transaction code (`writer_process._write_group`: identification, sessions, the inserts, the
   commit) on a fresh store. Every statement is timed and recorded.
3. SQL alone (the baseline): the recorded statements replayed, group by group, each group one
   transaction, on another copy of the same fresh store. This is the part of (2) that no change
   to the Python can remove: the floor of any writer that keeps this schema.

CPU is this process's plus, on PostgreSQL, its server backend's (from /proc).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import add_site  # noqa: E402

from bench.ingest import (  # noqa: E402
    SHARED_ASN,
    SHARED_CITY,
    USER_AGENTS,
    cpu_seconds,
    drop_database,
    fresh_database,
    make_event,
    random_ip,
)
from footfall import accounts, ids  # noqa: E402
from footfall.enrich.geo import GeoLookup  # noqa: E402
from footfall.enrich.networks import HostingNetworks  # noqa: E402
from footfall.ids import LinkSigner, VisitorSigner  # noqa: E402
from footfall.ingest import pipeline  # noqa: E402
from footfall.ingest.payloads import decode_one, to_event  # noqa: E402
from footfall.ingest.writer import EventWriter  # noqa: E402
from footfall.ingest.writer_db import Db, connect_db  # noqa: E402
from footfall.ingest.writer_process import Request, Start, _write_group  # noqa: E402
from footfall.runtime import tune_gc  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402

RATE = 50_000  # events a second: the timestamps' spacing


def build_frames(site_id: str, site: Any, count: int, group: int, seed: int = 7) -> list[bytes]:
    """`count` events through decode and the pipeline, as msgpack frames of `group` events."""
    rng = random.Random(seed)
    visitors = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(5000)]
    geo = GeoLookup([SHARED_CITY], [SHARED_ASN])
    context = pipeline.Context(geo)
    start = int(time.time() * 1000)
    events = []
    for i in range(count):
        if i % 500 == 0:  # one sender per 500-event request, as in bench/ingest.py
            info = pipeline.RequestInfo(ip=random_ip(rng), user_agent=rng.choice(USER_AGENTS))
        ts = start + i * 1000 // RATE
        event = to_event(decode_one(json.dumps(make_event(rng, site_id, visitors, info.user_agent)).encode()), ts)
        event.request_id = ids.request_id(ts)
        reason = pipeline.run(pipeline.Candidate(event, site, info, context))
        if reason is not None:
            raise SystemExit(f"the generator made an event the pipeline dropped: {reason}")
        events.append(event)
    geo.close()
    encode = msgspec.msgpack.Encoder().encode
    return [
        encode([Request(n, events[i : i + 500]) for n, i in enumerate(range(g, min(g + group, count), 500))])
        for g in range(0, count, group)
    ]


def statement_kind(sql: str) -> str:
    words = sql.split()
    verb = words[0].upper()
    if verb == "SELECT":
        return "SELECT " + (words[words.index("FROM") + 1] if "FROM" in words else "")
    if verb == "INSERT":
        return "INSERT " + words[2]
    if verb == "UPDATE":
        return "UPDATE " + words[1]
    return verb


class Recorder:
    """Every statement a Tx runs, in order, with its time."""

    def __init__(self) -> None:
        self.statements: list[list[tuple[str, str, Any]]] = []  # per group
        self.seconds: dict[str, float] = defaultdict(float)

    def tx_type(self, base: type) -> type:
        recorder = self

        def timed(method: str, kind: Callable[[Any], str]) -> Callable[..., Any]:
            original = getattr(base, method)

            def run(self: Any, first: Any, *rest: Any) -> Any:
                if method == "executemany":
                    rest = (list(rest[0]),)
                started = time.perf_counter()
                out = original(self, first, *rest)
                recorder.seconds[kind(first)] += time.perf_counter() - started
                recorder.statements[-1].append((method, first, rest))
                return out

            return run

        return type(
            "Recorded" + base.__name__,
            (base,),
            {
                "execute": timed("execute", statement_kind),
                "executemany": timed("executemany", statement_kind),
                "one": timed("one", statement_kind),
                "all": timed("all", statement_kind),
                "allocate": timed("allocate", lambda table: f"allocate {table}"),
                "lock": timed("lock", lambda _keys: "lock"),
            },
        )

    def transaction(self, fn: Callable[[Any], None], kind: str) -> Callable[[Any], None]:
        def run(tx: Any) -> None:
            if kind == "BEGIN":
                self.statements.append([])
            started = time.perf_counter()
            fn(tx)
            self.seconds[kind] += time.perf_counter() - started
            if kind == "ROLLBACK":  # undone: not part of what the store holds, so not replayed
                self.statements.pop()

        return run


def backend_pid(db: Db) -> int | None:
    if isinstance(db.conn, sqlite3.Connection):
        return None
    return int(db.conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"])


def measure(db: Db, work: Callable[[], int]) -> tuple[float, float, int]:
    """(CPU seconds of this process and the database backend, wall seconds, events) of `work`."""
    pid = backend_pid(db)
    cpu0, wall0 = time.process_time() + (cpu_seconds(pid) if pid else 0.0), time.perf_counter()
    events = work()
    cpu1, wall1 = time.process_time() + (cpu_seconds(pid) if pid else 0.0), time.perf_counter()
    return cpu1 - cpu0, wall1 - wall0, events


def start_of(settings: Settings, path: str) -> Start:
    return Start(settings.database_url if settings.uses_postgres else "", path, settings.sqlite_synchronous, b"", 0, 0)


def copy_store(settings: Settings, path: str, workdir: Path) -> tuple[Settings, str]:
    """A second empty store with the same sites (SQLite: a file copy; PostgreSQL: a template)."""
    if settings.uses_postgres:
        return fresh_database("postgres", workdir / "copy", template=settings.database_url.rsplit("/", 1)[1]), ""
    target = workdir / "copy" / "footfall.db"
    target.parent.mkdir()
    shutil.copyfile(path, target)
    return Settings.from_env({}, data_dir=str(target.parent)), str(target)


def bench_backend(backend: str, count: int, group: int, workdir: Path, pipeline: bool = True) -> list[dict[str, Any]]:
    settings = fresh_database(backend, workdir / backend)
    store = open_store(settings)
    now = int(time.time() * 1000)
    site_id, _ = add_site(store, "example.com", now)
    site = store.read(lambda tx: accounts.get_site(tx, site_id))
    path = str(getattr(store, "path", ""))
    store.close()
    copy, copy_path = copy_store(settings, path, workdir / backend)
    frames = build_frames(site_id, site, count, group)
    decode = msgspec.msgpack.Decoder(list[Request]).decode
    secret = secrets.token_bytes(32)
    writer = EventWriter(
        VisitorSigner(secret),
        LinkSigner(secret),
        settings.session_idle_minutes * 60_000,
        settings.match_window_days * 86_400_000,
        HostingNetworks(()),
    )
    recorder = Recorder()
    tune_gc()  # as the writer process does
    try:
        db = connect_db(start_of(settings, path))
        if not pipeline:  # PostgreSQL as before pipeline mode: each statement waits for its answer
            db.pipeline = contextlib.nullcontext
        db.tx_type = recorder.tx_type(db.tx_type)
        db.begin = recorder.transaction(db.begin, "BEGIN")
        db.commit = recorder.transaction(db.commit, "COMMIT")
        db.rollback = recorder.transaction(db.rollback, "ROLLBACK")

        def write() -> int:
            events = 0
            for frame in frames:
                requests = decode(frame)
                replies = _write_group(db, writer, requests)
                if not all(r.ok for r in replies):
                    raise SystemExit(f"{backend}: the writer failed: {[r.error for r in replies if not r.ok][:1]}")
                events += sum(len(r.events) for r in requests)
            return events

        written = measure(db, write)
        db.close()

        bare = connect_db(start_of(copy, copy_path))

        def replay() -> int:
            for statements in recorder.statements:
                tx = bare.tx_type(bare.conn)
                bare.begin(tx)
                for method, first, rest in statements:
                    getattr(tx, method)(first, *rest)
                bare.commit(tx)
            return count

        replayed = measure(bare, replay)
        bare.close()
    finally:
        drop_database(settings)
        drop_database(copy)
    rows = []
    for name, (cpu, wall, events) in (("writer (identify + write)", written), ("its SQL alone (baseline)", replayed)):
        rows.append(
            {
                "backend": backend,
                "run": name,
                "cpu_us": cpu / events * 1e6,
                "wall_us": wall / events * 1e6,
                "events_s": events / wall,
                "vs": cpu / replayed[0],
            }
        )
    split = sorted(recorder.seconds.items(), key=lambda kv: -kv[1])
    rows.append({"backend": backend, "split": [(kind, s / count * 1e6) for kind, s in split]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--group", type=int, default=1000, help="events a transaction (the ingest bench: ~1,000)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--no-pipeline", action="store_true", help="PostgreSQL: write without psycopg's pipeline mode")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            results.extend(bench_backend(backend, args.events, args.group, Path(tmp), not args.no_pipeline))
    print(f"\n{args.events:,} events in groups of {args.group:,}\n")
    print("| backend | run | CPU µs/event | wall µs/event | events/s | CPU vs SQL alone |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in results:
        if "run" in r:
            print(
                f"| {r['backend']} | {r['run']} | {r['cpu_us']:.1f} | {r['wall_us']:.1f} | "
                f"{r['events_s']:,.0f} | {r['vs']:.2f}x |"
            )
    for r in results:
        if "split" in r:
            print(f"\n{r['backend']}: the writer's statements, wall µs an event\n")
            print("| statement | µs/event |\n| --- | ---: |")
            for kind, us in r["split"]:
                print(f"| {kind} | {us:.2f} |")


if __name__ == "__main__":
    main()
