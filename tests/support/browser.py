"""Real Chromium (the system's /usr/bin/chromium) driven by Playwright, and pages on loopback."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from tests.support.servers import free_port

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium(path: str, user_agent: str | None = None, extra: tuple[str, ...] = ()) -> Iterator[Browser]:
    """The browser; `user_agent` replaces HeadlessChrome's for every request, including the
    beacons a page sends as it unloads (a context's user agent does not reach those)."""
    args = CHROMIUM_FLAGS + ([f"--user-agent={user_agent}"] if user_agent else []) + list(extra)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PageServer:
    """Serves fixed HTML documents by path on 127.0.0.1 (the site being tracked)."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        pages_ = pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = pages_.get(self.path.split("?", 1)[0])
                self.send_response(200 if body is not None else 404)
                script = self.path.split("?", 1)[0].endswith((".js", ".mjs"))
                kind = "application/javascript" if script else "text/html"
                self.send_header("content-type", f"{kind}; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
