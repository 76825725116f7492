"""Real servers on loopback: the app under uvicorn in a thread, or `footfall serve` as a process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from uvicorn._compat import asyncio_run

from footfall import accounts
from footfall.app import create_app
from footfall.clock import ManualClock
from footfall.settings import Settings
from footfall.store.base import Store

UA_CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
UA_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"server at {url} did not come up")


class AppServer:
    """`create_app(settings, clock)` served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, settings: Settings, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, self.clock)
        self.store: Store = self.app.state.components.store
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", proxy_headers=False)
        )
        self.loop: asyncio.AbstractEventLoop | None = None  # the server's loop, once it runs
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self._server.serve()

        asyncio_run(serve(), loop_factory=self._server.config.get_loop_factory())

    def __enter__(self) -> AppServer:
        self._thread.start()
        wait_until_up(self.url)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)

    def add_site(self, domain: str, **kw: Any) -> tuple[str, str]:
        """(site id, a site key with analytics:read) for a new site."""
        return add_site(self.store, domain, self.clock.now_ms(), **kw)


# Test sites keep automated traffic: the tests drive headless Chromium with a Mac user agent on
# Linux and send many page views at one instant of the fake clock. The tests of the automation,
# hosting-network and speed steps make sites that filter it (settings={}).
TEST_SITE_SETTINGS = {"keep_automated": True}


def add_site(
    store: Store, domain: str, now: int, scopes: tuple[str, ...] = ("analytics:read",), **kw: Any
) -> tuple[str, str]:
    kw.setdefault("settings", dict(TEST_SITE_SETTINGS))

    def go(tx: Any) -> tuple[str, str]:
        account, _ = accounts.ensure_account(tx, "test", now)
        site = accounts.create_site(tx, account["id"], domain, now, **kw)
        key, _ = accounts.create_key(tx, account["id"], list(scopes), now, site_id=site.id)
        return site.id, key

    return store.write(go)


class ServerProcess:
    """`python -m footfall serve` in its own process, to be killed with SIGKILL."""

    def __init__(self, env: dict[str, str], port: int | None = None, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # receivers of workflows run on loopback, which the default outbound rule refuses
        defaults = {"FOOTFALL_LOG_LEVEL": "warning", "FOOTFALL_OUTBOUND_ALLOW": "127.0.0.0/8"}
        self.env = {**os.environ, **defaults, **env, "FOOTFALL_PORT": str(self.port)}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "footfall", "serve"], env=self.env, stdout=out, stderr=subprocess.STDOUT
        )
        wait_until_up(self.url, timeout=30)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
