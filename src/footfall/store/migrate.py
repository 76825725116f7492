"""Versioned schema migrations: `migrations/<dialect>/NNNN_name.sql`, applied in order, once."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources
from typing import Any

MIGRATION_LOCK = "footfall:migrate"


def available(dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration file of a dialect, in order."""
    folder = resources.files("footfall.store") / "migrations" / dialect
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def statements(sql: str) -> list[str]:
    """The file's statements: split at semicolons, but not inside a `$$`-quoted body (a function)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    found, current = [], []
    for i, part in enumerate("\n".join(lines).split("$$")):
        if i % 2:  # inside $$ ... $$
            current.append(f"$${part}$$")
            continue
        pieces = part.split(";")
        current.append(pieces[0])
        for piece in pieces[1:]:
            found.append("".join(current))
            current = [piece]
    found.append("".join(current))
    return [s.strip() for s in found if s.strip()]


def migrate(
    tx: Any, begin: Callable[[Any], None], commit: Callable[[Any], None], rollback: Callable[[Any], None]
) -> list[str]:
    """Apply what is missing, each migration in its own transaction. Returns what ran."""
    applied_now: list[str] = []
    begin(tx)
    try:
        tx.lock([MIGRATION_LOCK])
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        )
        done = {r["version"] for r in tx.all("SELECT version FROM schema_migrations")}
        for version, name, sql in available(tx.dialect):
            if version in done:
                continue
            for statement in statements(sql):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, int(time.time() * 1000)),
            )
            applied_now.append(name)
        commit(tx)
    except BaseException:
        rollback(tx)
        raise
    return applied_now
