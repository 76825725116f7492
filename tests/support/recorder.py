"""A recording reverse proxy on 127.0.0.1: clients talk to it, it forwards each request to the
server under test unchanged and keeps (method, path, query, status, headers, body) of every
exchange, so a test can check exactly what an official client was answered."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.servers import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]
    body: bytes


class Recorder:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = httpx.request(self.command, recorder.upstream + self.path, headers=headers, content=body)
                parts = urlsplit(self.path)
                kept = {k.lower(): v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                recorder.exchanges.append(
                    Exchange(self.command, parts.path, parts.query, answer.status_code, kept, answer.content)
                )
                self.send_response(answer.status_code)
                for k, v in kept.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_PUT = do_DELETE = do_POST = do_PATCH = _forward  # noqa: N815 - http.server's names

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
