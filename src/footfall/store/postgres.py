"""PostgreSQL backend: psycopg 3, a read pool, a writer thread with group commit.

Each instance has one writer thread by default. Writers of several instances
serialise on the visitors they touch with transaction-scoped advisory locks
(`Tx.lock`), taken in sorted order within a job; should two groups still
deadlock, PostgreSQL aborts one and `run_batch` retries its jobs one by one.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool

from footfall.store.base import BadValue, Job, JobQueue, Row, WriterThread, run_batch
from footfall.store.migrate import migrate

T = TypeVar("T")


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big", signed=True)


class PostgresTx:
    dialect = "postgres"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self.conn.execute(translate(sql), params)
        except psycopg.DataError as exc:
            raise BadValue(str(exc)) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.executemany(translate(sql), list(rows))
        except psycopg.DataError as exc:
            raise BadValue(str(exc)) from exc

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            row: Row | None = self.conn.execute(translate(sql), params).fetchone()
        except psycopg.DataError as exc:
            raise BadValue(str(exc)) from exc
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self.conn.execute(translate(sql), params).fetchall()
        except psycopg.DataError as exc:
            raise BadValue(str(exc)) from exc

    def blobs(self, sql: str, params: Sequence[Any] = ()) -> list[bytes]:
        """The first column of every row, in binary: a `bytea` sent as text is hex that psycopg
        must decode (31 MB of rollup columns took 200-1,000 ms that way, 60-110 ms in binary)."""
        with self.conn.cursor(binary=True, row_factory=tuple_row) as cur:
            cur.execute(translate(sql), params)
            return [r[0] for r in cur.fetchall()]

    def allocate(self, table: str, n: int) -> list[int]:
        rows = self.conn.execute(f"SELECT nextval('{table}_num_seq') AS n FROM generate_series(1, %s)", (n,))
        return [r["n"] for r in rows.fetchall()]

    def lock(self, keys: Iterable[str]) -> None:
        """All of them in one round trip, in ascending order (unnest yields the sorted array in order,
        and each row takes its lock as it is produced), so writers never wait on each other in a
        cycle. One statement per key cost a round trip per visitor: a 500-event batch made 500."""
        idents = sorted({lock_id(k) for k in keys})
        if idents:
            self.conn.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", (idents,))


# footfall's statements are short: PostgreSQL's JIT compiler, which starts on estimated cost, spent
# 18 ms compiling a 100 ms read of the analytics (the payments of a month) and saved nothing.
OPTIONS = "-c jit=off"


def connect(url: str) -> psycopg.Connection[Any]:
    """A writer connection: dict rows, transactions begun and ended explicitly."""
    return psycopg.connect(url, row_factory=dict_row, autocommit=True, options=OPTIONS)


class PostgresStore(JobQueue):
    dialect = "postgres"

    def __init__(self, url: str, *, read_pool_size: int = 4, writers: int = 1, commit_window_ms: float = 2.0) -> None:
        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, read_pool_size),
            kwargs={"row_factory": dict_row, "autocommit": True, "options": OPTIONS},
            open=True,
        )
        self._writer_conns = [self._connect() for _ in range(max(1, writers))]
        migrate(PostgresTx(self._writer_conns[0]), _begin, _commit, _rollback)
        JobQueue.__init__(self)
        self._writers = [
            WriterThread(
                f"footfall-pg-writer-{i}", self._jobs, functools.partial(self._process, conn), commit_window_ms / 1000
            )
            for i, conn in enumerate(self._writer_conns)
        ]
        for w in self._writers:
            w.start()

    def _connect(self) -> psycopg.Connection[Any]:
        return connect(self.url)

    def _process(self, conn: psycopg.Connection[Any], jobs: list[Job]) -> None:
        if conn.closed or conn.broken:
            conn = self._connect()
        run_batch(lambda: PostgresTx(conn), jobs, _begin, _commit, _rollback)

    def read(self, fn: Callable[[Any], T]) -> T:
        with self._pool.connection() as conn:
            return fn(PostgresTx(conn))

    def scrub(self) -> None:
        """PostgreSQL removes dead row versions itself (autovacuum) and its WAL is recycled; nothing
        to do on request (docs/reliability.md, "Erasure")."""

    def stats(self) -> dict[str, int]:
        return {
            "write_batches": sum(w.batches for w in self._writers),
            "write_jobs": sum(w.jobs for w in self._writers),
            "write_queue": self._jobs.qsize(),
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for _ in self._writers:
            self._jobs.put(None)
        for w in self._writers:
            w.join()
        for conn in self._writer_conns:
            conn.close()
        self._pool.close()


def _begin(tx: PostgresTx) -> None:
    tx.conn.execute("BEGIN")


def _commit(tx: PostgresTx) -> None:
    tx.conn.execute("COMMIT")


def _rollback(tx: PostgresTx) -> None:
    if not tx.conn.closed and tx.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        tx.conn.execute("ROLLBACK")
