"""A workflow receiver on 127.0.0.1: records every request, can fail, stall or recover on demand.

`mode` is what the next requests get: "ok" (200), "fail" (500), "slow" (answers after `delay`
seconds, past the sender's timeout), or "random" (each of those by chance, `rng`). Receivers
that dedupe keep the `Idempotency-Key`s they accepted: `unique()` is what such a receiver saw.
"""

from __future__ import annotations

import http.server
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.support.servers import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    mode: str = "ok"
    delay: float = 3.0
    reply: bytes = b""  # the body of every answer (empty: "ok" or "no")
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (SIGKILL): nothing to accept or answer
                    return
                status = receiver._answer()
                if status == 0:  # stalled past the sender's timeout, then dropped
                    time.sleep(receiver.delay)
                    status = 503
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append(Received(self.path, headers, body, status))
                try:
                    self.send_response(status)
                    self.send_header("content-type", "text/plain")
                    self.end_headers()
                    self.wfile.write(receiver.reply or (b"ok" if status == 200 else b"no"))
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _answer(self) -> int:
        mode = self.mode
        if mode == "random":
            mode = self.rng.choices(["ok", "fail", "slow"], [0.5, 0.35, 0.15])[0]
        return {"ok": 200, "fail": 500, "slow": 0}[mode]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.status == 200]

    def unique(self) -> dict[str, Received]:
        """What a receiver that dedupes by Idempotency-Key keeps: the first accepted of each key."""
        kept: dict[str, Received] = {}
        for r in self.accepted():
            kept.setdefault(r.headers["idempotency-key"], r)
        return kept

    def wait(self, n: int, timeout: float = 20.0) -> dict[str, Received]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(kept := self.unique()) >= n:
                return kept
            time.sleep(0.05)
        raise AssertionError(f"{len(self.unique())} of {n} deliveries arrived: {self.requests[-5:]}")
