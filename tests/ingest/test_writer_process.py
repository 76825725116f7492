"""The event writer process: restarts after dying; the thread path keeps the same contract."""

from __future__ import annotations

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

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
        paths = sorted(row["path"] for row in server.store.read(lambda tx: tx.all(EVENTS)))
        assert paths == ["/after", "/before"]  # each once: what was refused was not written too


def test_the_writer_thread_path_keeps_the_same_contract(settings: Settings) -> None:
    with AppServer(settings.replace(writer_process=False)) as server:
        assert server.app.state.writer_process is None
        site, _ = server.add_site("example.com")
        first = post(server.url, event(site)).json()
        again = post(server.url, event(site, "https://example.com/2", visitorId=first["visitorId"])).json()
        assert again["visitorId"] == first["visitorId"] and again["sessionId"] == first["sessionId"]
        rows = server.store.read(lambda tx: tx.all(EVENTS + " ORDER BY e.id"))
        assert [r["path"] for r in rows] == ["/", "/2"] and {r["visitor_id"] for r in rows} == {first["visitorId"]}


def test_requests_made_while_the_writer_is_busy_travel_together_and_each_gets_its_own_answer(
    settings: Settings,
) -> None:
    """No frame per request: what arrives while a frame is being written goes as the next one; the
    answers still reach the request they belong to."""
    with AppServer(settings) as server:
        site, _ = server.add_site("example.com")
        process = server.app.state.writer_process
        assert post(server.url, event(site)).status_code == 202  # the writer is started
        before = process.frames
        clients = [str(uuid.UUID(int=i + 1, version=4)) for i in range(64)]
        with ThreadPoolExecutor(16) as pool:
            answers = list(
                pool.map(
                    lambda c: post(server.url, event(site, f"https://example.com/{c}", visitorId=c)).json(), clients
                )
            )
        assert process.frames - before < len(clients)
        rows = server.store.read(lambda tx: tx.all(EVENTS + " WHERE v.client_key IS NOT NULL"))
        stored = {r["path"].strip("/"): (r["visitor_id"], r["session_id"]) for r in rows}
        assert {c: (a["visitorId"], a["sessionId"]) for c, a in zip(clients, answers, strict=True)} == stored
        assert len({a["visitorId"] for a in answers}) == len(clients)
