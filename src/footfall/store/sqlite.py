"""SQLite backend: one file in WAL mode, one writer thread with group commit, a read pool."""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from footfall.datadir import private_dir, private_file
from footfall.store.base import Job, JobQueue, Row, WriterThread, run_batch
from footfall.store.migrate import migrate

T = TypeVar("T")


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


class SQLiteTx:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._next: dict[str, int] = {}  # nums handed out but perhaps not inserted yet

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def blobs(self, sql: str, params: Sequence[Any] = ()) -> list[bytes]:
        cur = self.conn.cursor()
        cur.row_factory = None  # plain tuples: no dict per row
        return [r[0] for r in cur.execute(sql, params).fetchall()]

    def lock(self, keys: Iterable[str]) -> None:
        """One writer thread already serialises every write."""

    def allocate(self, table: str, n: int) -> list[int]:
        """Safe because the caller holds SQLite's write lock (BEGIN IMMEDIATE) until it commits."""
        start = self._next.get(table)
        if start is None:  # once per transaction; after that the counter here is ahead of the table
            top = self.conn.execute(f"SELECT COALESCE(MAX(num), 0) AS n FROM {table}").fetchone()
            start = int(top["n"]) + 1
        self._next[table] = start + n
        return list(range(start, start + n))


def connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = _dict_row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
    return conn


class SQLiteStore(JobQueue):
    dialect = "sqlite"

    def __init__(
        self, path: Path, *, synchronous: str = "FULL", read_pool_size: int = 4, commit_window_ms: float = 2.0
    ) -> None:
        if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"sqlite synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous}")
        private_file(private_dir(path.parent) / path.name)
        self.path = path
        self._writer_conn = connect(path, synchronous)
        migrate(SQLiteTx(self._writer_conn), _begin, _commit, _rollback)
        self._readers: queue.Queue[sqlite3.Connection] = queue.Queue()
        for _ in range(max(1, read_pool_size)):
            self._readers.put(connect(path, synchronous))
        JobQueue.__init__(self)
        self._writer = WriterThread("footfall-sqlite-writer", self._jobs, self._process, commit_window_ms / 1000)
        self._writer.start()

    def _process(self, jobs: list[Job]) -> None:
        run_batch(lambda: SQLiteTx(self._writer_conn), jobs, _begin, _commit, _rollback)

    def read(self, fn: Callable[[Any], T]) -> T:
        conn = self._readers.get()
        try:
            return fn(SQLiteTx(conn))
        finally:
            self._readers.put(conn)

    def scrub(self) -> None:
        """After an erasure: the WAL is copied into the database and truncated, so no earlier copy
        of an erased row stays in it (the database itself overwrote them: secure_delete)."""
        self.write(lambda tx: None)  # after every write queued before this one
        conn = connect(self.path, "FULL")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def stats(self) -> dict[str, int]:
        return {
            "write_batches": self._writer.batches,
            "write_jobs": self._writer.jobs,
            "write_queue": self._jobs.qsize(),
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._writer.join()
        self._writer_conn.close()
        while not self._readers.empty():
            self._readers.get().close()


def _begin(tx: SQLiteTx) -> None:
    tx.conn.execute("BEGIN IMMEDIATE")


def _commit(tx: SQLiteTx) -> None:
    tx.conn.execute("COMMIT")


def _rollback(tx: SQLiteTx) -> None:
    if tx.conn.in_transaction:
        tx.conn.execute("ROLLBACK")
