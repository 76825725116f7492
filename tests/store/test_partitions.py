"""Retention with events partitioned by month (PostgreSQL, migration 0011): a month every site in
it has let go is dropped whole, a month shared with a site that keeps more goes row by row, and
events of a month without a partition wait in the default one until it is made. SQLite keeps
what the same retention keeps, row by row."""

from __future__ import annotations

from datetime import UTC, datetime

from footfall import accounts
from footfall.retention import DAY_MS, month_partitions, purge
from tests.support.collect import event, post
from tests.support.servers import AppServer


def month(ms: int) -> str:
    return "events_" + datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y_%m")


def paths(server: AppServer, table: str = "events") -> list[str]:
    return [r["path"] for r in server.store.read(lambda tx: tx.all(f"SELECT path FROM {table} ORDER BY ts"))]


def test_retention_drops_the_months_every_site_let_go(server: AppServer) -> None:
    kept, keeps_all = server.add_site("example.com")[0], server.add_site("example.org")[0]
    start = server.clock.now_ms()
    post(server.url, event(kept, "https://example.com/a-old"))
    server.clock.advance(ms=35 * DAY_MS)
    middle = server.clock.now_ms()
    post(server.url, event(kept, "https://example.com/a-mid"))
    post(server.url, event(keeps_all, "https://example.org/b-mid"))
    server.clock.advance(ms=65 * DAY_MS)
    post(server.url, event(kept, "https://example.com/a-new"))
    postgres = server.store.dialect == "postgres"
    if postgres:  # no partition was made for the middle month yet: its events wait in the default one
        assert month(middle) not in {name for name, _ in server.store.read(month_partitions)}
        assert paths(server, "events_default") == ["/a-mid", "/b-mid", "/a-new"]
        server.store.write(lambda tx: tx.one("SELECT footfall_event_month(?) AS name", (middle,)))
        assert paths(server, month(middle)) == ["/a-mid", "/b-mid"]  # moved out of the default partition
    assert purge(server.store, server.clock) == 0  # no retention set: everything stays
    if postgres:  # ... and the job made this month's partition and the next two
        made = {name for name, _ in server.store.read(month_partitions)}
        assert {month(server.clock.now_ms() + i * 31 * DAY_MS) for i in range(3)} <= made
        assert paths(server, "events_default") == []
    server.store.write(lambda tx: accounts.update_site_settings(tx, kept, {"retention_days": 60}))
    assert purge(server.store, server.clock) > 0
    assert paths(server) == ["/b-mid", "/a-new"]
    if postgres:
        made = {name for name, _ in server.store.read(month_partitions)}
        assert month(start) not in made  # only the first site had events then: dropped whole
        assert month(middle) in made  # the second site keeps everything: its row stays, the first's went
