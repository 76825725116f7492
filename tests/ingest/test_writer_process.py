"""The event writer process: restarts after dying; the thread path keeps the same contract."""

from __future__ import annotations

import os
import signal
import time

from footfall.settings import Settings
from tests.support.collect import EVENTS, event, post
from tests.support.servers import AppServer


def test_a_killed_writer_is_replaced_and_nothing_acknowledged_is_lost(settings: Settings) -> None:
    with AppServer(settings) as server:
        site, _ = server.add_site("example.com")
        assert post(server.url, event(site, "https://example.com/before")).status_code == 202
        proc = server.app.state.writer_process._proc
        os.kill(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while proc.returncode is None and time.monotonic() < deadline:
            time.sleep(0.05)
        r = post(server.url, event(site, "https://example.com/after"))
        assert r.status_code in (202, 503)
        if r.status_code == 503:  # the request met the dying writer: it says so, and a retry works
            assert "send again" in r.json()["error"]["message"]
            r = post(server.url, event(site, "https://example.com/after"))
        assert r.status_code == 202 and server.app.state.writer_process._proc.pid != proc.pid
        paths = {row["path"] for row in server.store.read(lambda tx: tx.all(EVENTS))}
        assert paths == {"/before", "/after"}


def test_the_writer_thread_path_keeps_the_same_contract(settings: Settings) -> None:
    with AppServer(settings.replace(writer_process=False)) as server:
        assert server.app.state.writer_process is None
        site, _ = server.add_site("example.com")
        first = post(server.url, event(site)).json()
        again = post(server.url, event(site, "https://example.com/2", visitorId=first["visitorId"])).json()
        assert again["visitorId"] == first["visitorId"] and again["sessionId"] == first["sessionId"]
        rows = server.store.read(lambda tx: tx.all(EVENTS + " ORDER BY e.id"))
        assert [r["path"] for r in rows] == ["/", "/2"] and {r["visitor_id"] for r in rows} == {first["visitorId"]}
