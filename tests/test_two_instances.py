"""Two footfall instances on one database: background jobs run once at a time (leases), and two
servers under concurrent load for the same visitors and people make no duplicate visitors,
sessions or persons."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from footfall.clock import ManualClock
from footfall.jobs import leased
from footfall.settings import Settings
from footfall.store import open_store
from tests.support.collect import event, post
from tests.support.servers import ServerProcess, add_site


def test_a_leased_job_runs_once_at_a_time_across_instances(settings: Settings) -> None:
    one, two = open_store(settings), open_store(settings)  # two instances' connections
    clock = ManualClock()
    ran: list[str] = []
    gate = threading.Event()

    def job(holder: str) -> None:
        ran.append(holder)
        gate.wait(5)

    try:
        a = leased(one, clock, "rollups", "instance-a", lambda: job("a"))
        b = leased(two, clock, "rollups", "instance-b", lambda: job("b"))
        first = threading.Thread(target=a)
        first.start()
        while not ran:
            time.sleep(0.01)
        assert b() is None and ran == ["a"]  # a holds it: b skips this run
        gate.set()
        first.join()
        b()  # given back at the end of a's run
        assert ran == ["a", "b"]
        # an instance that dies holding a lease loses it once it runs out
        dead = leased(one, clock, "scoring", "instance-a", lambda: (_ for _ in ()).throw(SystemExit))
        with pytest.raises(SystemExit):
            dead()
        one.write(
            lambda tx: tx.execute("UPDATE job_leases SET until = ? WHERE name = 'scoring'", (clock.now_ms() + 1000,))
        )
        assert leased(two, clock, "scoring", "instance-b", lambda: "ran")() is None
        clock.advance(seconds=2)
        assert leased(two, clock, "scoring", "instance-b", lambda: "ran")() == "ran"
    finally:
        one.close()
        two.close()


@pytest.mark.postgres
def test_two_servers_on_one_postgres_make_no_duplicates(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=str(tmp_path / "data"), database_url=postgres_url)
    store = open_store(settings)
    site, key = add_site(store, "example.com", int(time.time() * 1000), scopes=("analytics:read", "identify:write"))
    store.close()
    env = {"FOOTFALL_DATA_DIR": settings.data_dir, "FOOTFALL_DATABASE_URL": settings.database_url}
    servers = [ServerProcess(env, log=tmp_path / f"server{i}.log").start() for i in range(2)]
    try:
        clients = [str(uuid.UUID(int=i + 1, version=4)) for i in range(40)]  # ids a server-side SDK makes
        errors: list[str] = []

        def send(worker: int) -> None:
            for rnd in range(6):
                for n, client in enumerate(clients):
                    server = servers[(n + rnd + worker) % 2]  # each visitor's events alternate between instances
                    body = event(site, f"https://example.com/p{rnd}", visitorId=client)
                    answer = post(server.url, body)
                    if answer.status_code != 202:
                        errors.append(answer.text)

        def identify(worker: int) -> None:
            for n in range(10):  # the same ten people named through both instances at once
                answer = httpx.post(
                    f"{servers[worker].url}/api/v1/identify",
                    params={"websiteId": site},
                    json={"datafast_visitor_id": clients[n], "user_id": f"u{n}", "email": f"p{n}@acme.com"},
                    headers={"authorization": f"Bearer {key}"},
                )
                if answer.status_code not in (200, 404):  # 404: its first page view has not landed yet
                    errors.append(answer.text)

        threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
        threads += [threading.Thread(target=identify, args=(w,)) for w in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        identify(0)  # every one of them, now that all page views have landed
        assert not errors, errors[:3]
    finally:
        for s in servers:
            s.stop()
    store = open_store(settings)
    try:
        q = lambda sql: store.read(lambda tx: tx.all(sql))  # noqa: E731
        visitors = q("SELECT client_key, COUNT(*) AS n FROM visitors GROUP BY client_key")
        assert len(visitors) == 40 and all(v["n"] == 1 for v in visitors)
        sessions = q("SELECT visitor_num, COUNT(*) AS n FROM sessions GROUP BY visitor_num")
        assert len(sessions) == 40 and all(s["n"] == 1 for s in sessions)  # one visit each, 24 events
        assert q("SELECT COUNT(*) AS n FROM events")[0]["n"] == 40 * 6 * 4
        people = q("SELECT email, COUNT(*) AS n FROM people GROUP BY email")
        assert len(people) == 10 and all(p["n"] == 1 for p in people)
        assert q("SELECT COUNT(*) AS n FROM person_ids WHERE kind = 'email'")[0]["n"] == 10
    finally:
        store.close()
