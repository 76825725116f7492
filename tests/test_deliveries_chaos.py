"""Workflow deliveries against a receiver that fails, stalls and recovers at random, with the server
killed (SIGKILL) while it delivers: every row arrives, and a receiver that dedupes by
Idempotency-Key sees each once (both stores)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx

from footfall import accounts
from footfall.settings import Settings
from footfall.store import open_store
from tests.support.receiver import Receiver
from tests.support.servers import ServerProcess

PEOPLE_PER_ROUND = 3
ROUNDS = 20  # issue F9: at least 20 SIGKILLs while delivering, on each store


def prepare(settings: Settings) -> str:
    store = open_store(settings)
    now = int(time.time() * 1000)

    def go(tx: Any) -> str:
        account, _ = accounts.ensure_account(tx, "test", now)
        scopes = ["sources:read", "sources:write", "workflows:read", "workflows:write", "identify:write"]
        key, _ = accounts.create_key(tx, account["id"], scopes, now)
        return key

    try:
        return store.write(go)
    finally:
        store.close()


def call(url: str, key: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = httpx.request(
        method, url + path, json=body, params=params, headers={"authorization": f"Bearer {key}"}, timeout=30
    )  # a server just restarted on a busy machine (the suite runs in parallel) may take a while
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def test_every_row_arrives_once_through_failures_and_kills(settings: Settings, tmp_path: Path) -> None:
    key = prepare(settings)
    env = {
        "FOOTFALL_DATA_DIR": settings.data_dir,
        "FOOTFALL_DATABASE_URL": settings.database_url,
        "FOOTFALL_DELIVERY_TIMEOUT_SECONDS": "0.3",
        "FOOTFALL_DELIVERY_BACKOFF_MS": "50",
        "FOOTFALL_DELIVERY_INTERVAL_SECONDS": "0.05",
        "FOOTFALL_SCORING_INTERVAL_SECONDS": "0",  # no scoring process to start 20 times
    }
    rng = random.Random(11)
    with Receiver(mode="random", delay=0.6, rng=random.Random(5)) as receiver:
        server = ServerProcess(env, log=tmp_path / "server.log").start()
        source = call(
            server.url, key, "POST", "/api/v1/sources/track_personal_website_visitors",
            {"name": "people", "active_domain": "shop.example.com"},
        )  # fmt: skip
        site = source["pixel_id"]
        workflow = call(
            server.url, key, "POST", "/api/v1/workflows",
            {"name": "crm", "kind": "webhook", "inputs": ["email"], "url": receiver.url + "/hook"},
        )  # fmt: skip
        call(
            server.url, key, "POST", f"/api/v1/sources/{source['source_instance_id']}/sync",
            {"workflow_id": workflow["id"], "field_mapping": {"input.email": "email"}},
        )  # fmt: skip
        emails = []
        for round_ in range(ROUNDS):
            for i in range(PEOPLE_PER_ROUND):
                email = f"r{round_}p{i}@example.org"
                visit = httpx.post(
                    server.url + "/api/events",
                    json={"websiteId": site, "href": "https://shop.example.com/pricing", "type": "pageview"},
                    headers={"user-agent": "Mozilla/5.0 (Macintosh) Chrome/126.0.0.0 Safari/537.36"},
                    timeout=30,
                ).json()
                call(
                    server.url, key, "POST", "/api/v1/identify",
                    {"user_id": email, "email": email, "datafast_visitor_id": visit["visitorId"]}, websiteId=site,
                )  # fmt: skip
                emails.append(email)
            time.sleep(rng.uniform(0.2, 0.6))  # deliveries under way: some sent, some answered, some not
            server.kill()
            server = ServerProcess(env, log=tmp_path / "server.log").start()
        receiver.mode = "ok"  # the receiver recovers for good; the rest arrives
        kept = receiver.wait(len(emails), timeout=60)
        server.kill()
    store = open_store(settings)
    try:
        rows = store.read(lambda tx: tx.all("SELECT num FROM source_rows"))
    finally:
        store.close()
    assert len(rows) == len(emails)  # one row per person, none made twice
    assert set(kept) == {f"{r['num']}:{workflow['id']}" for r in rows}
    assert sorted(r.json()["inputs"]["email"] for r in kept.values()) == sorted(emails)
    for r in receiver.accepted():  # a duplicate is always the same row again, under its own key
        assert kept[r.headers["idempotency-key"]].json()["row_id"] == r.json()["row_id"]
    statuses = {r.status for r in receiver.requests}
    assert {200, 500, 503} <= statuses  # it did fail and stall along the way
    print(f"\n{'postgres' if settings.uses_postgres else 'sqlite'}: {ROUNDS} SIGKILLs, {len(rows)} rows, "
          f"{len(receiver.requests)} attempts received, {len(receiver.accepted())} accepted, "
          f"{len(kept)} unique, 0 lost")  # fmt: skip
