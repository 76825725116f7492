"""The Store contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from footfall.settings import Settings
from footfall.store import instance_secret, open_store
from footfall.store.base import Tx
from footfall.store.migrate import available


def test_migrations_run_once_and_are_recorded(settings: Settings) -> None:
    store = open_store(settings)
    store.close()
    store = open_store(settings)  # a second start applies nothing twice
    try:
        rows = store.read(lambda tx: tx.all("SELECT version, name FROM schema_migrations ORDER BY version"))
        assert [r["name"] for r in rows] == [name for _, name, _ in available(store.dialect)]
        tables = {"accounts", "sites", "api_keys", "visitors", "sessions", "events"}
        for table in tables:
            assert store.read(lambda tx, t=table: tx.one(f"SELECT COUNT(*) AS n FROM {t}"))["n"] == 0
    finally:
        store.close()


def test_write_is_visible_to_readers_once_acknowledged(settings: Settings) -> None:
    store = open_store(settings)
    try:
        store.write(lambda tx: tx.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a1', 'x', 1)"))
        assert store.read(lambda tx: tx.one("SELECT name FROM accounts WHERE id = 'a1'")) == {"name": "x"}
    finally:
        store.close()


def test_concurrent_writes_commit_in_groups(settings: Settings) -> None:
    """Jobs arriving together share transactions, and every caller gets its own result."""
    store = open_store(settings.replace(commit_window_ms=5.0))
    gate = threading.Event()

    def slow(tx: Tx) -> str:
        gate.wait(5)  # holds the writer while the others queue up behind it
        return "first"

    try:
        first = store.submit(slow)
        futures: list[Future[int]] = []
        for i in range(200):
            futures.append(
                store.submit(
                    lambda tx, i=i: (
                        tx.execute("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", (f"acc{i}", "n", i)),
                        i,
                    )[1]
                )
            )
        before = store.stats()["write_batches"]
        gate.set()
        assert first.result(10) == "first"
        assert [f.result(10) for f in futures] == list(range(200))
        batches = store.stats()["write_batches"] - before
        assert batches <= 5, f"200 queued jobs took {batches} transactions"
        assert store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM accounts"))["n"] == 200
    finally:
        store.close()


def test_a_failing_job_does_not_take_its_group_down(settings: Settings) -> None:
    store = open_store(settings)
    gate = threading.Event()
    try:
        store.submit(lambda tx: gate.wait(5))
        good = store.submit(lambda tx: tx.execute("INSERT INTO accounts (id, name, created_at) VALUES ('g', 'g', 1)"))
        bad = store.submit(lambda tx: tx.execute("INSERT INTO no_such_table VALUES (1)"))
        good2 = store.submit(lambda tx: tx.execute("INSERT INTO accounts (id, name, created_at) VALUES ('h', 'h', 1)"))
        gate.set()
        good.result(10)
        good2.result(10)
        with pytest.raises(Exception, match="no_such_table"):
            bad.result(10)
        ids = store.read(lambda tx: tx.all("SELECT id FROM accounts ORDER BY id"))
        assert [r["id"] for r in ids] == ["g", "h"]
    finally:
        store.close()


def test_instance_secret_is_created_once_and_shared(settings: Settings) -> None:
    first = open_store(settings)
    try:
        secret = instance_secret(first, "visitor_signing_key")
    finally:
        first.close()
    second = open_store(settings)
    try:
        assert instance_secret(second, "visitor_signing_key") == secret
        assert len(secret) == 64
    finally:
        second.close()
