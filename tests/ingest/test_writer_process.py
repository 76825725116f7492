"""The event writer process: restarts after dying; the thread path keeps the same contract."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from footfall.ingest.writer_process import EventWriterProcess, Unwritable
from footfall.model import Event
from footfall.settings import Settings
from tests.support.collect import EVENTS, event, post
from tests.support.servers import AppServer, ServerProcess, add_site


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


# [T7] 1: one request must never stop the stream.
HUGE = (2**64, -(2**63) - 1, 2**200)


def test_a_number_no_store_can_keep_is_refused_alone_and_ingestion_goes_on(settings: Settings) -> None:
    """A keyless request with an integer past 64 bits once hung the hand-off to the writer and
    every collect request after it. It is refused (400, DataFast's envelope) on each collect route,
    while good requests sent at the same moment are stored, and later ones too."""
    with AppServer(settings) as server:
        site, _ = server.add_site("example.com")
        bad = [
            ("/api/events", event(site, extraData={"n": HUGE[0]})),
            ("/api/events", event(site, type="custom", extraData={"eventName": "x", "deep": [{"n": HUGE[1]}]})),
            ("/api/events/batch", {"events": [event(site), event(site, extraData={"n": HUGE[2]})]}),
            ("/api/track", {**event(site), "extraData": {"n": HUGE[0]}}),
        ]
        good = [("/api/events", event(site, f"https://example.com/good{i}")) for i in range(40)]
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda job: post(server.url, job[1], path=job[0]), bad + good))
        for (path, _), answer in zip(bad, answers, strict=False):
            assert answer.status_code == 400, (path, answer.text)
            if path != "/api/track":  # PostMetric's pixel answers with a GIF
                assert "integers must be between" in answer.json()["error"]["message"]
        assert all(a.status_code == 202 for a in answers[len(bad) :])
        assert post(server.url, event(site, "https://example.com/after")).status_code == 202
        paths = {row["path"] for row in server.store.read(lambda tx: tx.all(EVENTS))}
        assert paths == {f"/good{i}" for i in range(40)} | {"/after"}  # nothing of the refused batch
        assert httpx.get(server.url + "/healthz").text == "ok"


def test_the_hand_off_refuses_what_it_cannot_encode_without_stopping(settings: Settings) -> None:
    """Below the edge's checks, the hand-off itself: a request msgpack cannot carry fails alone
    (`Unwritable`), and the requests made in the same loop iteration are written."""
    with AppServer(settings) as server:
        site, _ = server.add_site("example.com")
        assert post(server.url, event(site)).status_code == 202  # the writer is started
        sitenum = server.store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
        process: EventWriterProcess = server.app.state.writer_process

        def one(path: str, extra: dict[str, object]) -> Event:
            return Event(site_id=site, site_num=sitenum, type="pageview", ts=server.clock.now_ms(),
                         request_id=f"{path}.r", href=f"https://example.com{path}", hostname="example.com",
                         path=path, extra=extra)  # fmt: skip

        async def together() -> list[object]:
            jobs = [process.write([one("/bad", {"n": 2**64})])] + [process.write([one(f"/g{i}", {})]) for i in range(5)]
            return await asyncio.gather(*jobs, return_exceptions=True)

        results = asyncio.run_coroutine_threadsafe(together(), server.loop).result(timeout=10)
        assert isinstance(results[0], Unwritable)
        assert all(isinstance(r, list) for r in results[1:])
        paths = {row["path"] for row in server.store.read(lambda tx: tx.all(EVENTS))}
        assert paths == {"/", *(f"/g{i}" for i in range(5))}


def test_a_stalled_writer_is_reported_and_restarted(settings: Settings) -> None:
    """A writer that stops answering (SIGSTOP here): /healthz says so with 503, the watchdog fails
    what it held with 503 at the timeout and the next request is written by a new writer."""
    with AppServer(settings.replace(writer_timeout_seconds=2.0)) as server:
        site, _ = server.add_site("example.com")
        assert post(server.url, event(site)).status_code == 202
        stuck = server.app.state.writer_process._proc
        os.kill(stuck.pid, signal.SIGSTOP)
        try:
            with ThreadPoolExecutor(1) as pool:
                held = pool.submit(post, server.url, event(site, "https://example.com/held"))
                time.sleep(1.5)
                health = httpx.get(server.url + "/healthz")
                assert health.status_code == 503 and "ingestion stalled" in health.text
                answer = held.result(timeout=10)
            assert answer.status_code == 503 and "send again" in answer.json()["error"]["message"]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stuck.pid, signal.SIGCONT)
        assert post(server.url, event(site, "https://example.com/next")).status_code == 202
        assert server.app.state.writer_process._proc.pid != stuck.pid
        assert httpx.get(server.url + "/healthz").text == "ok"
        assert server.app.state.writer_process.restarts == 1
        metrics = httpx.get(server.url + "/metrics").text
        assert "footfall_writer_restarts 1.0" in metrics


def test_a_graceful_stop_finishes_while_the_writer_is_stuck(tmp_path: Path) -> None:
    """`footfall serve` stops within its bound even when a request waits on a stuck writer."""
    env = {"FOOTFALL_DATA_DIR": str(tmp_path / "data"), "FOOTFALL_WRITER_TIMEOUT_SECONDS": "2",
           "FOOTFALL_SCORING_INTERVAL_SECONDS": "0"}  # fmt: skip
    server = ServerProcess(env).start()
    try:
        site = add_site_in(tmp_path / "data")
        assert post(server.url, event(site)).status_code == 202
        writer = _children(server.proc.pid)
        assert writer, "the event writer process"
        for pid in writer:
            os.kill(pid, signal.SIGSTOP)
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(post, server.url, event(site, "https://example.com/held"))
            time.sleep(0.5)
            started = time.monotonic()
            server.proc.terminate()
            server.proc.wait(timeout=30)
            assert time.monotonic() - started < 15
            assert held.result(timeout=10).status_code in (503,)
    finally:
        server.stop()
        for pid in _children(server.proc.pid) if server.proc else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if (
                    int(stat.rsplit(")", 1)[1].split()[1]) == pid
                    and b"writer_process" in (entry / "cmdline").read_bytes()
                ):
                    found.append(int(entry.name))
    return found


def add_site_in(data_dir: Path) -> str:
    from footfall.store import open_store

    store = open_store(Settings.from_env({}, data_dir=str(data_dir)))
    try:
        site, _ = add_site(store, "example.com", int(time.time() * 1000))
        return site
    finally:
        store.close()
