"""SIGKILL while clients post continuously: every event answered 202 is in the store afterwards."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from footfall.settings import Settings
from footfall.store import open_store
from tests.support.servers import UA_CHROME_MAC, ServerProcess, add_site

KILLS = 20  # issue F9: at least 20 SIGKILLs during sustained ingestion, on each store
CLIENTS = 6


def post_until_dead(url: str, site: str, prefix: str, acked: list[str], stop: threading.Event) -> None:
    n = 0
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            marker = f"{prefix}-{n}"
            n += 1
            try:
                r = client.post(
                    url + "/api/events",
                    headers={"user-agent": UA_CHROME_MAC},
                    json={"websiteId": site, "href": f"https://example.com/{marker}"},
                )
            except httpx.HTTPError:
                return  # the server is gone; whatever was not answered may or may not be stored
            if r.status_code == 202:
                acked.append(marker)


def test_acknowledged_events_survive_sigkill(settings: Settings, tmp_path: Path) -> None:
    store = open_store(settings)
    site, _ = add_site(store, "example.com", int(time.time() * 1000))
    store.close()
    env = {
        "FOOTFALL_DATA_DIR": settings.data_dir,
        "FOOTFALL_DATABASE_URL": settings.database_url,
        "FOOTFALL_SCORING_INTERVAL_SECONDS": "0",  # no scoring process to start 20 times
    }
    acked: list[str] = []
    for kill in range(KILLS):
        server = ServerProcess(env, log=tmp_path / "server.log").start()
        stop = threading.Event()
        clients = [
            threading.Thread(target=post_until_dead, args=(server.url, site, f"k{kill}c{i}", acked, stop))
            for i in range(CLIENTS)
        ]
        before = len(acked)
        for c in clients:
            c.start()
        deadline = time.monotonic() + 10  # mid-stream: once some events were answered (a loaded machine is slower)
        while len(acked) - before < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        server.kill()  # SIGKILL mid-stream: no shutdown hooks run
        stop.set()
        for c in clients:
            c.join()
    store = open_store(settings)
    try:
        paths = {r["path"] for r in store.read(lambda tx: tx.all("SELECT path FROM events"))}
    finally:
        store.close()
    assert len(acked) > 20 * KILLS, "the clients hardly got anything through; the test proves nothing"
    lost = [m for m in acked if f"/{m}" not in paths]
    print(f"\n{settings.uses_postgres and 'postgres' or 'sqlite'}: {KILLS} SIGKILLs, {len(acked)} events acknowledged, "
          f"{len(lost)} lost, {len(paths) - len(acked)} stored but unanswered")  # fmt: skip
    assert lost == []
