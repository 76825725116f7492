"""Storage: `open_store(settings)` gives the SQLite or PostgreSQL backend."""

from __future__ import annotations

import secrets

from footfall.settings import Settings
from footfall.store.base import Store, Tx


def open_store(settings: Settings) -> Store:
    if settings.uses_postgres:
        from footfall.store.postgres import PostgresStore

        return PostgresStore(
            settings.database_url, read_pool_size=settings.read_pool_size, commit_window_ms=settings.commit_window_ms
        )
    if settings.database_url:
        raise ValueError(
            f"FOOTFALL_DATABASE_URL must start with postgresql:// (got {settings.database_url!r}); "
            "leave it empty for SQLite"
        )
    from footfall.store.sqlite import SQLiteStore

    return SQLiteStore(
        settings.data_path / "footfall.db",
        synchronous=settings.sqlite_synchronous,
        read_pool_size=settings.read_pool_size,
        commit_window_ms=settings.commit_window_ms,
    )


def instance_secret(store: Store, name: str) -> str:
    """A secret shared by every instance on this database, made on first use."""

    def get_or_create(tx: Tx) -> str:
        row = tx.one("SELECT value FROM instance_secrets WHERE name = ?", (name,))
        if row:
            return str(row["value"])
        tx.execute(
            "INSERT INTO instance_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, secrets.token_hex(32)),
        )
        created = tx.one("SELECT value FROM instance_secrets WHERE name = ?", (name,))
        assert created is not None
        return str(created["value"])

    return store.write(get_or_create)
