"""Ingest benchmark: the real server, realistic events, against a do-nothing endpoint in the same run.

    python bench/ingest.py [--seconds 5] [--rounds 3] [--backends sqlite,postgres]

Starts `python -m footfall serve` (one worker) per backend, then drives, with the
same load generator: POST /_bench/noop (reads the body, answers 202), single
events on POST /api/events, and batches of 500 on POST /api/events/batch.
Payloads vary: distinct and returning visitors, real user agents, client IPs
through a trusted X-Forwarded-For, pages, referrers and campaigns, and the tracker's automation
evidence as each browser sends it (so the automation step runs in full). The site keeps automated
traffic (the tests' setting): replayed requests would otherwise trip the speed limit, and a
dropped event costs less than a stored one. The three
loads run in interleaved rounds and each row shows the median round, with the CPU time the
server process (its event loop) and the event writer process spent per event in that round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import ServerProcess, add_site  # noqa: E402

from bench.loadgen import Result, encode, run  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED_CITY = ROOT.parent / "shared" / "data" / "maxmind-test" / "GeoLite2-City-Test.mmdb"
SHARED_ASN = SHARED_CITY.with_name("GeoLite2-ASN-Test.mmdb")
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
]
PLATFORMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Linux armv81"), ("Windows", "Win32"),
             ("Macintosh", "MacIntel"), ("Linux", "Linux x86_64"))  # fmt: skip
PAGES = ["/", "/pricing", "/docs", "/blog", "/about", "/signup", "/login", "/features", "/changelog", "/contact"] + [
    f"/blog/post-{i}" for i in range(40)
]
REFERRERS = [
    None,
    None,
    None,
    "https://www.google.com/",
    "https://t.co/x",
    "https://news.ycombinator.com/",
    "https://www.linkedin.com/",
    "https://blog.example.org/post",
    "https://duckduckgo.com/",
]
CAMPAIGNS = [
    "",
    "",
    "",
    "",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "?utm_source=google&utm_medium=cpc&gclid=abc123",
    "?ref=producthunt",
]


def random_ip(rng: random.Random) -> str:
    if rng.random() < 0.3:  # ranges the MaxMind test database knows
        return rng.choice(["81.2.69.160", "2.125.160.216", "89.160.20.112", "216.160.83.56", "175.16.199.1"])
    return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def evidence(ua: str, width: int, height: int) -> dict[str, object]:
    """The tracker's automation evidence as a real browser of this user agent sends it."""
    platform = next(p for token, p in PLATFORMS if token in ua)
    chrome = re.search(r"Chrome/(\d+)", ua)
    brands = f"Google Chrome/{chrome.group(1)},Chromium/{chrome.group(1)},Not_A Brand/24" if chrome else None
    return {"wd": False, "b": brands, "p": platform, "w": [width, height + 85, 1040]}


def make_event(rng: random.Random, site: str, visitors: list[str], ua: str) -> dict[str, object]:
    returning = rng.random() < 0.6
    width, height = rng.choice([390, 768, 1280, 1440, 1920]), rng.choice([700, 800, 900])
    return {
        "websiteId": site,
        "domain": "example.com",
        "type": "pageview",
        "href": "https://example.com" + rng.choice(PAGES) + rng.choice(CAMPAIGNS),
        "referrer": rng.choice(REFERRERS),
        "visitorId": rng.choice(visitors) if returning else None,
        "viewport": {"width": width, "height": height},
        "screenWidth": 1920,
        "screenHeight": 1080,
        "ffAutomation": evidence(ua, width, height),
        "language": rng.choice(["en-US", "en-GB", "de-DE", "fr-FR"]),
        "timezone": rng.choice(["Europe/London", "America/New_York", "Europe/Berlin"]),
    }


def requests_for(site: str, path: str, batch: int, count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    visitors = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(5000)]
    out = []
    for _ in range(count):
        ua = rng.choice(USER_AGENTS)
        headers = {"User-Agent": ua, "X-Forwarded-For": random_ip(rng)}
        if batch == 1:
            body = json.dumps(make_event(rng, site, visitors, ua)).encode()
        else:
            body = json.dumps([make_event(rng, site, visitors, ua) for _ in range(batch)]).encode()
        out.append(encode("POST", path, "127.0.0.1", body, headers))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def writer_pid(server_pid: int) -> int | None:
    """The server's event writer process (`python -m footfall.ingest.writer_process`)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if ppid == server_pid and b"footfall.ingest.writer_process" in command:
            return int(entry.name)
    return None


def fresh_database(backend: str, workdir: Path, template: str = "", **overrides: Any) -> Settings:
    """Settings for an empty store: a SQLite file under `workdir`, or a new PostgreSQL database,
    a copy of the database `template` when given (`drop_database` removes it)."""
    if backend == "sqlite":
        return Settings.from_env({}, data_dir=str(workdir / "sqlite"), **overrides)
    name = "footfall_bench_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    return Settings.from_env({}, data_dir=str(workdir / "pg"), database_url=url, **overrides)


def drop_database(settings: Settings) -> None:
    if settings.uses_postgres:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {settings.database_url.rsplit('/', 1)[1]} WITH (FORCE)")


def bench_backend(
    backend: str, seconds: float, connections: int, rounds: int, workdir: Path
) -> list[dict[str, object]]:
    settings = fresh_database(backend, workdir)
    store = open_store(settings)
    site, _ = add_site(store, "example.com", int(time.time() * 1000))
    store.close()
    env = {
        "FOOTFALL_DATA_DIR": settings.data_dir,
        "FOOTFALL_DATABASE_URL": settings.database_url,
        "FOOTFALL_BENCHMARK_ROUTES": "true",
        "FOOTFALL_TRUSTED_PROXIES": "127.0.0.1",
        "FOOTFALL_WORKERS": "1",
        # the limiter stays on (its cost is measured) but high: 40 batch senders replay for seconds
        "FOOTFALL_COLLECT_RATE_PER_MINUTE_IP": "1000000000",
        "FOOTFALL_GEOIP_CITY": str(SHARED_CITY) if SHARED_CITY.exists() else "",
        "FOOTFALL_GEOIP_ASN": str(SHARED_ASN) if SHARED_ASN.exists() else "",
    }
    server = ServerProcess(env, log=workdir / f"{backend}.log").start()
    singles = requests_for(site, "/api/events", 1, 20_000)
    noops = [r.replace(b"POST /api/events ", b"POST /_bench/noop ", 1) for r in singles]
    batches = requests_for(site, "/api/events/batch", 500, 40)
    phases = (
        ("do-nothing endpoint", noops, connections, 1),
        ("POST /api/events (1 event)", singles, connections, 1),
        ("POST /api/events/batch (500)", batches, 4, 500),
    )
    results: dict[str, list[tuple[Result, float, float]]] = {name: [] for name, *_ in phases}
    try:
        run("127.0.0.1", server.port, noops, connections, 2)  # warm-up
        run("127.0.0.1", server.port, singles, connections, 2)
        assert server.proc is not None
        pids = (server.proc.pid, writer_pid(server.proc.pid))
        for _ in range(rounds):  # interleaved, so drift in the machine's speed hits all alike
            for name, reqs, conns, per in phases:
                before = [cpu_seconds(p) if p else 0.0 for p in pids]
                result = run("127.0.0.1", server.port, reqs, conns, seconds)
                after = [cpu_seconds(p) if p else 0.0 for p in pids]
                bad = {s: n for s, n in result.statuses.items() if s != 202}
                if bad:
                    raise SystemExit(f"{backend} {name}: unexpected statuses {bad}; see {workdir}/{backend}.log")
                events = result.requests * per
                loop_us, writer_us = ((a - b) / events * 1e6 for a, b in zip(after, before, strict=True))
                results[name].append((result, loop_us, writer_us))
    finally:
        server.stop()
        drop_database(settings)
    rows: list[dict[str, object]] = []
    for name, _reqs, _conns, per in phases:
        median, loop_us, writer_us = sorted(results[name], key=lambda r: r[0].rps)[len(results[name]) // 2]
        rows.append(
            {
                "backend": backend,
                "endpoint": name,
                "rps": median.rps,
                "events": median.rps * per,
                "p50": median.p50,
                "p99": median.pct(0.99),
                "loop_us": loop_us,
                "writer_us": writer_us,
            }
        )
    baseline = float(rows[0]["rps"])  # type: ignore[arg-type]
    for row in rows:
        row["ratio"] = float(row["rps"]) / baseline  # type: ignore[arg-type]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is shown")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            rows += bench_backend(backend, args.seconds, args.connections, args.rounds, Path(tmp))
    print(
        "\n| backend | endpoint | requests/s | events/s | p50 ms | p99 ms | req/s vs do-nothing "
        "| server CPU µs/event | writer CPU µs/event |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['backend']} | {r['endpoint']} | {r['rps']:,.0f} | {r['events']:,.0f} | {r['p50']:.1f} | "
            f"{r['p99']:.1f} | {'—' if 'batch' in str(r['endpoint']) else format(r['ratio'], '.0%')} | "
            f"{r['loop_us']:.0f} | {r['writer_us']:.0f} |"
        )


if __name__ == "__main__":
    main()
