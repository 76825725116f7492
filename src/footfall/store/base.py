"""The Store: one interface, two backends (SQLite and PostgreSQL), same behaviour.

Everything above the store speaks in functions of a `Tx`: `store.read(fn)` runs
`fn(tx)` on a read connection, `store.write(fn)` runs it inside a write
transaction and returns only after the commit. SQL is written once with `?`
placeholders; the PostgreSQL backend translates them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

import msgspec

T = TypeVar("T")
Row = dict[str, Any]


class BadValue(ValueError):
    """A value the database refused (PostgreSQL: NUL in text, a number out of range). The edges
    refuse these first (footfall.bounds); this is the net below them, answered 400, never 500."""


class Tx(Protocol):
    """A connection inside a transaction (or a read snapshot)."""

    dialect: str  # "sqlite" or "postgres"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def blobs(self, sql: str, params: Sequence[Any] = ()) -> list[bytes]:
        """The first column of every row, as bytes (the rollups' columns: read the fastest way)."""

    def lock(self, keys: Iterable[str]) -> None:
        """Serialise writers touching the same keys (no-op with one writer)."""

    def allocate(self, table: str, n: int) -> list[int]:
        """`n` fresh values for `table.num`, to insert rows that others reference in the same job."""


class Store(Protocol):
    dialect: str

    def read(self, fn: Callable[[Tx], T]) -> T: ...
    def write(self, fn: Callable[[Tx], T]) -> T: ...
    def submit(self, fn: Callable[[Tx], T]) -> Future[T]: ...
    def submit_merged(self, merge: Merge, payload: Any) -> Future[Any]: ...
    def stats(self) -> dict[str, int]: ...
    def scrub(self) -> None:
        """After an erasure: leave no copy of erased rows where the backend can help it."""

    def close(self) -> None: ...


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def dumps(value: Any) -> str:
    """Compact JSON text for the JSON columns (stored as TEXT on both backends)."""
    return _encoder.encode(value).decode()


def loads(value: str | None) -> Any:
    return _decoder.decode(value) if value else {}


Merge = Callable[[Tx, list[Any]], list[Any]]


class Job:
    """A function queued for the writer, with the future its caller waits on.

    A job made with `merge` carries a payload; consecutive jobs with the same merge
    function run as one call, `merge(tx, [payload, ...])`, which returns one result
    per payload (the collect path identifies and writes a whole group at once).
    """

    __slots__ = ("fn", "future", "merge", "payload")

    def __init__(self, fn: Callable[[Tx], Any], merge: Merge | None = None, payload: Any = None) -> None:
        self.fn = fn
        self.merge = merge
        self.payload = payload
        self.future: Future[Any] = Future()

    @classmethod
    def merged(cls, merge: Merge, payload: Any) -> Job:
        return cls(lambda tx: merge(tx, [payload])[0], merge, payload)


def _run_jobs(tx: Any, jobs: list[Job]) -> list[Any]:
    results: list[Any] = []
    i = 0
    while i < len(jobs):
        merge = jobs[i].merge
        j = i + 1
        while merge is not None and j < len(jobs) and jobs[j].merge == merge:  # bound methods: ==, not is
            j += 1
        if merge is None:
            results.append(jobs[i].fn(tx))
        else:
            results.extend(merge(tx, [job.payload for job in jobs[i:j]]))
        i = j
    return results


def run_batch(
    tx_factory: Callable[[], Any],
    jobs: list[Job],
    begin: Callable[[Any], None],
    commit: Callable[[Any], None],
    rollback: Callable[[Any], None],
) -> None:
    """Group commit: run every job in one transaction; on failure, retry one by one.

    A job that raises is answered with its own exception and never takes the
    others down with it. Futures are resolved only after the commit returned.
    """
    tx = tx_factory()
    results: list[Any] = []
    try:
        begin(tx)
        results = _run_jobs(tx, jobs)
        commit(tx)
    except Exception:
        rollback(tx)
        if len(jobs) == 1:
            _run_alone(tx, jobs[0], begin, commit, rollback)
            return
        for job in jobs:
            _run_alone(tx, job, begin, commit, rollback)
        return
    for job, result in zip(jobs, results, strict=True):
        job.future.set_result(result)


def _run_alone(
    tx: Any, job: Job, begin: Callable[[Any], None], commit: Callable[[Any], None], rollback: Callable[[Any], None]
) -> None:
    try:
        begin(tx)
        result = job.fn(tx)
        commit(tx)
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
        rollback(tx)
        job.future.set_exception(exc)
    else:
        job.future.set_result(result)


class StoppedError(RuntimeError):
    """The store is closed; nothing more is accepted."""


class JobQueue:
    """The writer's queue, shared by both backends: `submit`, `submit_merged`, `write`."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._closed = False

    def _enqueue(self, job: Job) -> Future[Any]:
        if self._closed:
            raise StoppedError("store is closed")
        self._jobs.put(job)
        return job.future

    def submit(self, fn: Callable[[Tx], T]) -> Future[T]:
        return self._enqueue(Job(fn))

    def submit_merged(self, merge: Merge, payload: Any) -> Future[Any]:
        """Queue a payload for `merge`; neighbours in the queue are merged into one call."""
        return self._enqueue(Job.merged(merge, payload))

    def write(self, fn: Callable[[Tx], T]) -> T:
        return self.submit(fn).result()


class WriterThread(threading.Thread):
    """Drains a queue of jobs and commits them in groups (see `run_batch`)."""

    def __init__(
        self, name: str, queue: Any, process: Callable[[list[Job]], None], window_s: float, max_batch: int = 2000
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.queue = queue
        self.process = process
        self.window_s = window_s
        self.max_batch = max_batch
        self.batches = 0  # transactions run, for /metrics and the group-commit tests
        self.jobs = 0

    def run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            try:
                while len(batch) < self.max_batch:
                    item = (
                        self.queue.get(timeout=self.window_s)
                        if len(batch) == 1 and self.window_s
                        else self.queue.get_nowait()
                    )
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
            except queue.Empty:
                pass
            self.process(batch)
            self.batches += 1
            self.jobs += len(batch)
            if stop:
                return
