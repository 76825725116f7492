"""[T7]'s load benchmarks: what hostile traffic does to everyone else, against a quiet baseline
measured in the same run.

    python bench/hardening.py [--backends sqlite,postgres] [--visitors 10000]

1. Logins: 40 concurrent wrong logins (40 client addresses, 40 unknown emails: each one hashed),
   while a keyed API call is timed; its p99 and the server's peak memory (server + event writer),
   beside the same calls with no logins.
2. Bodies: six concurrent 200 MB bodies to keyless endpoints (with a declared length, and chunked
   without one); the server's memory before, at its peak, and after.
3. Realtime: `--visitors` new visitors within a minute, then realtime/map and the dashboard's
   realtime read, p50 and p95, beside the same reads with 100 visitors.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import ServerProcess, add_site  # noqa: E402

from footfall import accounts  # noqa: E402
from footfall.dashboard import users  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"  # noqa: E501
PASSWORD = "correct horse battery staple"


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the event writer), MB."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


class Peak:
    """Samples a process tree's memory every 20 ms while in use."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self) -> Peak:
        def sample() -> None:
            while not self._stop.is_set():
                self.peak = max(self.peak, rss_mb(self.pid))
                time.sleep(0.02)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_calls(call: Callable[[], int], seconds: float) -> list[float]:
    """Latencies (ms) of back-to-back calls for `seconds`."""
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        assert call() == 200
        out.append((time.perf_counter() - started) * 1000)
    return out


def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        yield ""
        return
    name = f"footfall_bench_hardening_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def prepared(data_dir: str, url: str) -> tuple[str, str]:
    """(site id, an account key); a dashboard user."""
    store = open_store(Settings.from_env({}, data_dir=data_dir, database_url=url))
    try:
        site, _ = add_site(store, "example.com", int(time.time() * 1000))

        def go(tx: Any) -> str:
            account = accounts.first_account(tx)
            users.add_user(tx, account["id"], "owner@example.com", PASSWORD, 0)
            return accounts.create_key(tx, account["id"], ["*"], 0)[0]

        return site, store.write(go)
    finally:
        store.close()


def login(client: httpx.Client, url: str, i: int) -> int:
    form = client.get(url + "/login")
    token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form_body = {"email": f"nobody{i}@example.com", "password": "wrong password 1!", "csrf": token, "next": "/"}
    headers = {"cookie": f"ff_login_csrf={token}", "x-forwarded-for": f"203.0.113.{i + 1}"}
    answer = client.post(url + "/login", data=form_body, headers=headers)
    return answer.status_code


def bench_logins(server: ServerProcess, site: str, key: str) -> dict[str, Any]:
    api = httpx.Client(headers={"authorization": f"Bearer {key}"}, timeout=120)
    call = lambda: api.get(f"{server.url}/api/v1/visitors", params={"websiteId": site}).status_code  # noqa: E731
    timed_calls(call, 1.0)  # warm
    quiet = timed_calls(call, 5.0)
    assert server.proc is not None
    with Peak(server.proc.pid) as peak, ThreadPoolExecutor(40) as pool:
        clients = [httpx.Client(timeout=120) for _ in range(40)]
        futures = [
            pool.submit(lambda c=c, i=i: [login(c, server.url, i) for _ in range(3)]) for i, c in enumerate(clients)
        ]
        busy = []
        while not all(f.done() for f in futures):
            busy += timed_calls(call, 0.5)
        statuses = [s for f in futures for s in f.result()]
    return {"quiet_p99": percentile(quiet, 99), "busy_p99": percentile(busy, 99), "busy_calls": len(busy),
            "peak_mb": peak.peak, "logins": len(statuses), "answers": dict(sorted(
                (s, statuses.count(s)) for s in set(statuses)))}  # fmt: skip


def big(url: str, path: str, chunked: bool, size: int = 200 * 1024 * 1024) -> int:
    def chunks() -> Iterator[bytes]:
        block, sent = b"x" * (1 << 20), 0
        while sent < size:
            yield block
            sent += len(block)

    content: Any = chunks() if chunked else b"x" * size
    kind = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
    try:
        return httpx.post(url + path, content=content, headers={"content-type": kind}, timeout=120).status_code
    except httpx.HTTPError:  # the server stopped reading and closed: refused
        return 413


def bench_bodies(server: ServerProcess, site: str) -> dict[str, Any]:
    assert server.proc is not None
    before = rss_mb(server.proc.pid)
    paths = ["/api/identify", f"/api/webhooks/stripe/{site}", "/login"] * 2
    out: dict[str, Any] = {"before_mb": before}
    for chunked in (False, True):
        with Peak(server.proc.pid) as peak, ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda p, c=chunked: big(server.url, p, c), paths))
        time.sleep(1)
        out["chunked" if chunked else "declared"] = {"answers": answers, "peak_mb": peak.peak,
                                                     "after_mb": rss_mb(server.proc.pid)}  # fmt: skip
    return out


def arrive(url: str, site: str, n: int) -> float:
    """`n` new visitors, as fast as batches go; answers the seconds it took."""
    started = time.monotonic()
    events = [{"websiteId": site, "href": f"https://example.com/p{i % 50}", "type": "pageview"} for i in range(n)]
    with httpx.Client(timeout=120) as client, ThreadPoolExecutor(4) as pool:

        def send(chunk: list[dict[str, Any]]) -> None:
            body = json.dumps({"events": chunk})
            answer = client.post(url + "/api/events/batch", content=body,
                                 headers={"user-agent": UA, "content-type": "application/json"})  # fmt: skip
            assert answer.status_code == 202, answer.text

        list(pool.map(send, [events[i : i + 500] for i in range(0, n, 500)]))
    return time.monotonic() - started


def realtime_reads(url: str, site: str, key: str, n: int = 40) -> dict[str, list[float]]:
    api = httpx.Client(headers={"authorization": f"Bearer {key}"}, timeout=120)
    out: dict[str, list[float]] = {"api": []}
    for _ in range(n):
        started = time.perf_counter()
        answer = api.get(f"{url}/api/v1/analytics/realtime/map", params={"websiteId": site})
        assert answer.status_code == 200
        out["api"].append((time.perf_counter() - started) * 1000)
    return out


def run_backend(backend: str, visitors: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for url in database(backend):
        with tempfile.TemporaryDirectory() as tmp:
            site, key = prepared(tmp, url)
            env = {"FOOTFALL_DATA_DIR": tmp, "FOOTFALL_DATABASE_URL": url, "FOOTFALL_TRUSTED_PROXIES": "127.0.0.1",
                   "FOOTFALL_SCORING_INTERVAL_SECONDS": "0", "FOOTFALL_API_RATE_PER_MINUTE": "1000000",
                   "FOOTFALL_COLLECT_RATE_PER_MINUTE_IP": "0"}  # fmt: skip
            server = ServerProcess(env).start()
            try:
                arrive(server.url, site, 100)
                result["realtime_small"] = realtime_reads(server.url, site, key)
                result["arrival_s"] = arrive(server.url, site, visitors)
                result["realtime_large"] = realtime_reads(server.url, site, key)
                if backend == "sqlite":
                    result["logins"] = bench_logins(server, site, key)
                    result["bodies"] = bench_bodies(server, site)
            finally:
                server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--visitors", type=int, default=10_000)
    args = parser.parse_args()
    results = {b: run_backend(b, args.visitors) for b in args.backends.split(",")}
    print(f"\n## Realtime with {args.visitors:,} new visitors (baseline: 100)\n")
    print("| store | arrival | map p50 (100) | map p95 (100) | map p50 | map p95 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for backend, r in results.items():
        small, large = r["realtime_small"]["api"], r["realtime_large"]["api"]
        cells = [statistics.median(small), percentile(small, 95), statistics.median(large), percentile(large, 95)]
        print(f"| {backend} | {r['arrival_s']:.1f} s | " + " | ".join(f"{c:.1f} ms" for c in cells) + " |")
    logins = results.get("sqlite", {}).get("logins")
    if logins:
        print("\n## 40 concurrent wrong logins (3 each), SQLite\n")
        print("| keyed API p99, quiet | keyed API p99, during logins | calls during | server peak | login answers |")
        print("| ---: | ---: | ---: | ---: | --- |")
        print(f"| {logins['quiet_p99']:.1f} ms | {logins['busy_p99']:.1f} ms | {logins['busy_calls']} | "
              f"{logins['peak_mb']:.0f} MB | {logins['answers']} |")  # fmt: skip
    bodies = results.get("sqlite", {}).get("bodies")
    if bodies:
        print("\n## Six concurrent 200 MB bodies to keyless endpoints, SQLite\n")
        print("| body | memory before | peak | after | answers |")
        print("| --- | ---: | ---: | ---: | --- |")
        for kind in ("declared", "chunked"):
            b = bodies[kind]
            print(f"| {kind} | {bodies['before_mb']:.0f} MB | {b['peak_mb']:.0f} MB | {b['after_mb']:.0f} MB | "
                  f"{b['answers']} |")  # fmt: skip


if __name__ == "__main__":
    main()
