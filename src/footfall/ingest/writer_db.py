"""The event writer process's connection: its dialect's Tx, transaction statements, the driver's
data errors and, on PostgreSQL, psycopg's pipeline mode (ingest/writer_process.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from footfall.ingest.writer_process import Start


class Db:
    """One connection with its dialect's Tx and transaction statements."""

    def __init__(
        self,
        conn: Any,
        tx_type: Any,
        begin: Any,
        commit: Any,
        rollback: Any,
        data_errors: tuple[type, ...],
        pipeline: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    ) -> None:
        self.conn, self.tx_type, self.begin, self.commit, self.rollback = conn, tx_type, begin, commit, rollback
        self.data_errors = data_errors  # the driver's "this value cannot be stored"
        self.pipeline = pipeline

    def close(self) -> None:
        self.conn.close()


def connect_db(start: Start) -> Db:
    if start.database_url:
        from footfall.store import postgres

        conn = postgres.connect(start.database_url)
        return Db(
            conn,
            postgres.PostgresTx,
            postgres._begin,
            postgres._commit,
            postgres._rollback,
            (postgres.psycopg.DataError,),
            # psycopg's pipeline mode: a statement whose result nobody reads (the inserts, the
            # locks, BEGIN, COMMIT) goes without waiting for its answer; a read sends what is
            # queued and waits. Leaving the block waits for everything, the commit included.
            conn.pipeline,
        )
    from footfall.store import sqlite

    return Db(
        sqlite.connect(Path(start.path), start.synchronous),
        sqlite.SQLiteTx,
        sqlite._begin,
        sqlite._commit,
        sqlite._rollback,
        (sqlite.sqlite3.DataError,),
    )
