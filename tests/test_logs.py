"""Secrets never reach the logs: a key sent in a query string is masked in the access log."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from footfall.logs import redact
from footfall.settings import Settings
from footfall.store import open_store
from tests.support.servers import ServerProcess, add_site


def test_query_secrets_are_masked() -> None:
    assert redact("GET /events/search?api_key=ff_abc&limit=5") == "GET /events/search?api_key=***&limit=5"
    assert redact("/visitors/x?token=t0k&ff_t=link") == "/visitors/x?token=***&ff_t=***"
    assert redact("/api/v1/people?email=a@b.co") == "/api/v1/people?[query with personal data not logged]"


def test_the_access_log_never_holds_a_key(settings: Settings, tmp_path: Path) -> None:
    store = open_store(settings)
    _, key = add_site(store, "example.com", int(time.time() * 1000), scopes=("fingerprint:read",))
    store.close()
    log = tmp_path / "server.log"
    env = {"FOOTFALL_DATA_DIR": settings.data_dir, "FOOTFALL_DATABASE_URL": settings.database_url,
           "FOOTFALL_LOG_LEVEL": "info", "FOOTFALL_SCORING_INTERVAL_SECONDS": "0"}  # fmt: skip
    server = ServerProcess(env, log=log).start()
    try:
        answer = httpx.get(f"{server.url}/events/search", params={"api_key": key, "limit": "5"})
        assert answer.status_code in (200, 400)  # authenticated by the query's key
        httpx.get(f"{server.url}/healthz")
    finally:
        server.stop()
    text = log.read_text()
    assert "/events/search?api_key=***" in text and key not in text
