"""Lead scoring and the collect path: single-event ingest with the scoring job off and with it
running every second, in the same run, on the same database; and what the job itself costs.

    python bench/scoring.py [--seconds 5] [--rounds 3] [--backends sqlite,postgres]

Per backend: a site with `signup` as its conversion goal gets a history (pageviews of 5,000
visitors, 3% of whom sign up) through the batch endpoint. Then, in interleaved rounds, one server
with FOOTFALL_SCORING_INTERVAL_SECONDS=0 and one with 1 take the same load of single events (2%
of them sign-ups, so the job retrains as it would on a live site); each row is the median round.
Last, the job is timed in this process: a full training and scoring, then an incremental run.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import ServerProcess, add_site  # noqa: E402

from bench.ingest import SHARED_ASN, SHARED_CITY, drop_database, fresh_database, requests_for  # noqa: E402
from bench.loadgen import Result, run  # noqa: E402
from footfall import accounts  # noqa: E402
from footfall.clock import SystemClock  # noqa: E402
from footfall.scoring.scorer import Scoring  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402


def signups(requests: list[bytes], share: float, seed: int = 11) -> list[bytes]:
    """Turns `share` of single pageview requests into `signup` goals of the same visitor."""
    rng = random.Random(seed)
    out = []
    for raw in requests:
        if rng.random() < share:
            head, body = raw.split(b"\r\n\r\n", 1)
            event = json.loads(body) | {"type": "custom", "extraData": {"eventName": "signup"}}
            new = json.dumps(event).encode()
            head = head.replace(f"Content-Length: {len(body)}".encode(), f"Content-Length: {len(new)}".encode())
            raw = head + b"\r\n\r\n" + new
        out.append(raw)
    return out


def seed_history(url: str, site: str) -> int:
    """5,000 visitors, each with its first page view, up to three more, and (3% of them) a sign-up
    after those, sent with the visitor id the server answered, so each visitor is one visitor."""
    rng = random.Random(3)
    total = 0
    with httpx.Client() as client:
        for raw in requests_for(site, "/api/events", 1, 5000, seed=3):
            head, body = raw.split(b"\r\n\r\n", 1)
            event = json.loads(body) | {"visitorId": None}
            sent = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
            headers = {"x-forwarded-for": sent["X-Forwarded-For"], "user-agent": sent["User-Agent"]}
            answer = client.post(url + "/api/events", json=event, headers=headers)
            assert answer.status_code == 202, answer.text
            more = [
                event | {"href": f"https://example.com/page-{rng.randint(1, 40)}"} for _ in range(rng.randint(0, 3))
            ]
            if rng.random() < 0.03:
                more.append(event | {"type": "custom", "extraData": {"eventName": "signup"}})
            for e in more:
                time.sleep(0.002)  # after the page views, by the server's clock
                answer = client.post(url + "/api/events", json=e | {"visitorId": answer.json()["visitorId"]},
                                     headers=headers)  # fmt: skip
                assert answer.status_code == 202, answer.text
            total += 1 + len(more)
    return total


def bench_backend(
    backend: str, seconds: float, rounds: int, connections: int, workdir: Path
) -> tuple[list[dict[str, object]], dict]:
    settings = fresh_database(backend, workdir)
    store = open_store(settings)
    site, _ = add_site(store, "example.com", int(time.time() * 1000))
    store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["signup"]}))
    store.close()
    env = {
        "FOOTFALL_DATA_DIR": settings.data_dir,
        "FOOTFALL_DATABASE_URL": settings.database_url,
        "FOOTFALL_TRUSTED_PROXIES": "127.0.0.1",
        "FOOTFALL_WORKERS": "1",
        "FOOTFALL_ROLLUP_INTERVAL_SECONDS": "0",
        "FOOTFALL_GEOIP_CITY": str(SHARED_CITY) if SHARED_CITY.exists() else "",
        "FOOTFALL_GEOIP_ASN": str(SHARED_ASN) if SHARED_ASN.exists() else "",
    }
    log = workdir / f"{backend}.log"
    server = ServerProcess(env | {"FOOTFALL_SCORING_INTERVAL_SECONDS": "0"}, log=log).start()
    try:
        history = seed_history(server.url, site)
    finally:
        server.stop()
    load = signups(requests_for(site, "/api/events", 1, 20_000, seed=5), 0.02)
    results: dict[str, list[Result]] = {"off": [], "on": []}
    try:
        for _ in range(rounds):
            for mode, interval in (("off", "0"), ("on", "1")):
                server = ServerProcess(env | {"FOOTFALL_SCORING_INTERVAL_SECONDS": interval}, log=log).start()
                try:
                    run("127.0.0.1", server.port, load, connections, 3)  # warm-up (and the job's first runs)
                    result = run("127.0.0.1", server.port, load, connections, seconds)
                finally:
                    server.stop()
                bad = {s: n for s, n in result.statuses.items() if s != 202}
                if bad:
                    raise SystemExit(f"{backend} scoring {mode}: unexpected statuses {bad}; see {log}")
                results[mode].append(result)
        job = time_job(settings, site)
    finally:
        drop_database(settings)
    rows: list[dict[str, object]] = []
    for mode in ("off", "on"):
        median = sorted(results[mode], key=lambda r: r.rps)[len(results[mode]) // 2]
        rows.append({"backend": backend, "mode": mode, "rps": median.rps, "p50": median.p50, "p99": median.pct(0.99)})
    job["history"] = history
    return rows, job


def time_job(settings: Settings, site: str) -> dict:
    store = open_store(settings)
    try:
        found = store.read(lambda tx: accounts.get_site(tx, site))
        assert found is not None
        job = Scoring(store, SystemClock())
        started, cpu = time.perf_counter(), time.process_time()
        trained = job.site(found.num, ["signup"], retrain=True)
        full, full_cpu = time.perf_counter() - started, time.process_time() - cpu
        scored = store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM visitor_scores")["n"])
        started, cpu = time.perf_counter(), time.process_time()
        said = job.site(found.num, ["signup"])
        incremental, incremental_cpu = time.perf_counter() - started, time.process_time() - cpu
        if not said.startswith("scored"):
            raise SystemExit(f"the job did not score: {trained} / {said}")
        again = int(said.split()[1].replace(",", ""))  # "scored N visitors active since the last run"
    finally:
        store.close()
    return {
        "trained": trained,
        "full_s": full,
        "visitors": scored,
        "full_cpu_ms": 1000 * full_cpu / max(1, scored),
        "incremental_s": incremental,
        "again": again,
        "incremental_cpu_ms": 1000 * incremental_cpu / max(1, again),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--connections", type=int, default=4, help="4 keeps the server below saturation")
    args = parser.parse_args()
    rows, jobs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            found, jobs[backend] = bench_backend(backend, args.seconds, args.rounds, args.connections, Path(tmp))
            rows += found
    print("\n| backend | scoring job | requests/s | p50 ms | p99 ms | vs job off |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        off = next(o for o in rows if o["backend"] == r["backend"] and o["mode"] == "off")
        print(
            f"| {r['backend']} | {'every 1 s' if r['mode'] == 'on' else 'off'} | {r['rps']:,.0f} | {r['p50']:.1f} | "
            f"{r['p99']:.1f} | {float(r['rps']) / float(off['rps']):.0%} |"  # type: ignore[arg-type]
        )
    print(
        "\n| backend | history events | full run (train + score) | visitors scored | CPU per visitor "
        "| incremental run | visitors | CPU per visitor |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend, j in jobs.items():
        print(
            f"| {backend} | {j['history']:,} | {j['full_s']:.1f} s | {j['visitors']:,} | {j['full_cpu_ms']:.2f} ms "
            f"| {j['incremental_s']:.2f} s | {j['again']:,} | {j['incremental_cpu_ms']:.2f} ms |"
        )
    for backend, j in jobs.items():
        print(f"{backend}: {j['trained']}")


if __name__ == "__main__":
    main()
