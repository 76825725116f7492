"""Analytics rollups: folded only when their visits are over, dropped and folded again when visits
change, and never stored from rows an invalidation made stale. (The property test in
tests/api/test_analytics.py checks the numbers against a naive computation, folded and not.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from footfall import rollups
from footfall.rollups import SLOT_MS, Rollups, slot_of
from tests.support.collect import event, post
from tests.support.fingerprint import fingerprint_key, sdk
from tests.support.servers import AppServer
from tests.test_matching import signals

HOUR = 3_600_000


@pytest.fixture
def site_and_key(server: AppServer) -> tuple[str, str]:
    return server.add_site("example.com")


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def overview(server: AppServer, key: str, start: int, end: int) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/api/v1/analytics/overview",
        params={"startAt": iso(start), "endAt": iso(end)},
        headers={"authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"][0]
    return data


def folded(server: AppServer) -> dict[int, int]:
    """slot -> sessions of the stored rollups."""
    rows = server.store.read(lambda tx: tx.all("SELECT slot, sessions FROM rollups ORDER BY slot"))
    return {r["slot"]: r["sessions"] for r in rows}


def fold(server: AppServer) -> int:
    job: Rollups = server.app.state.rollups
    return job.fold()


def pageview(server: AppServer, site: str, visitor: str | None = None, **kw: Any) -> dict[str, Any]:
    body = event(site, "https://example.com/", **kw)
    if visitor:
        body["visitorId"] = visitor
    response = post(server.url, body)
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_slot_is_folded_once_its_visits_are_over(server: AppServer, site_and_key: tuple[str, str]) -> None:
    site, key = site_and_key
    server.clock.advance(ms=SLOT_MS - server.clock.now_ms() % SLOT_MS)  # both visits start in one slot
    start = server.clock.now_ms()
    long = pageview(server, site)["visitorId"]
    server.clock.advance(minutes=1)
    pageview(server, site)  # a one-page visit in the same slot
    for _ in range(6):  # the first visit goes on for an hour
        server.clock.advance(minutes=10)
        pageview(server, site, long)
    fold(server)
    assert slot_of(start) not in folded(server)  # the first visit is still going
    assert overview(server, key, start, start + 2 * HOUR)["sessions"] == 2
    server.clock.advance(minutes=36)  # idle time and margin passed: the visit is over
    fold(server)
    rows = folded(server)
    assert rows[slot_of(start)] == 2
    assert all(rows[s] == 0 for s in rows if s != slot_of(start))  # slots without visits are stored empty
    got = overview(server, key, start, start + 2 * HOUR)
    assert (got["visitors"], got["sessions"], got["bounce_rate"]) == (2, 2, 50.0)
    assert got["avg_session_duration"] == (61 * 60_000 + 0) // 2  # 61 minutes and a bounce
    assert fold(server) == 0  # nothing new to fold


def test_a_split_browser_leaves_the_folded_slots_of_its_visitor(
    server: AppServer, site_and_key: tuple[str, str]
) -> None:
    """B is matched to A (one visitor), folded so; once both are seen alive B is a visitor of its
    own, and the folded range counts two."""
    site, key = site_and_key
    start = server.clock.now_ms()
    a = pageview(server, site, ffSignals=signals())["visitorId"]
    server.clock.advance(minutes=40)
    b = pageview(server, site, ffSignals=signals())
    assert b["visitorId"] == b["browserId"] != a and "presumed" in b  # counted as A's
    server.clock.advance(minutes=120)
    fold(server)
    assert folded(server)[slot_of(start + 40 * 60_000)] == 1
    assert overview(server, key, start, start + HOUR)["visitors"] == 1
    pageview(server, site, a, ffSignals=signals())
    server.clock.advance(seconds=10)
    assert "presumed" not in pageview(server, site, b["browserId"], ffSignals=signals())  # split
    assert slot_of(start + 40 * 60_000) not in folded(server)  # dropped with the split
    assert overview(server, key, start, start + HOUR)["visitors"] == 2  # computed raw meanwhile
    server.clock.advance(minutes=120)
    fold(server)
    assert folded(server)[slot_of(start + 40 * 60_000)] == 1
    assert overview(server, key, start, start + HOUR)["visitors"] == 2  # and from the new rollup


def test_an_erased_visitor_leaves_the_folded_counts(server: AppServer, site_and_key: tuple[str, str]) -> None:
    site, key = site_and_key
    start = server.clock.now_ms()
    gone = pageview(server, site)["visitorId"]
    pageview(server, site)
    server.clock.advance(minutes=60)
    fold(server)
    assert overview(server, key, start, start + HOUR)["sessions"] == 2
    api = sdk(server, fingerprint_key(server, site, ("fingerprint:read", "fingerprint:write")))
    api.delete_visitor_data(gone)
    got = overview(server, key, start, start + HOUR)
    assert (got["visitors"], got["sessions"]) == (1, 1)
    fold(server)
    assert folded(server)[slot_of(start)] == 1


def test_a_fold_computed_before_an_invalidation_is_not_stored(server: AppServer, site_and_key: tuple[str, str]) -> None:
    site, _ = site_and_key
    start = server.clock.now_ms()
    visitor = pageview(server, site)["visitorId"]
    server.clock.advance(minutes=60)
    site_num = server.store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
    job: Rollups = server.app.state.rollups
    first = server.store.write(lambda tx: rollups._begin(tx, site_num))
    assert first == slot_of(start)
    generation = server.store.read(lambda tx: rollups._generation(tx, site_num))
    cutoff = server.clock.now_ms() - job.idle_ms - rollups.MARGIN_MS
    rows, still_open = server.store.read(lambda tx: job._compute(tx, site_num, first, first + 4 * SLOT_MS, cutoff))
    assert still_open is None and rows[0][1].sessions == 1
    # the visitor is erased between the fold's read and its write
    num = server.store.read(lambda tx: tx.one("SELECT num FROM visitors WHERE id = ?", (visitor,)))["num"]
    server.store.write(lambda tx: rollups.forget_visits(tx, "visitor_num = ?", (num,)))
    assert server.store.write(lambda tx: rollups._store(tx, site_num, generation, rows, first, first)) is None
    assert folded(server) == {}
