"""`footfall import`: a file of history into a site, streaming, resumable and idempotent
(docs/import.md).

The file is read line by line (gzip when its name ends in .gz); each batch of lines becomes events
(importing/formats.py), goes through the history steps (ingest/history.py) and is written by the
event writer in one transaction with the import's progress (`imports.lines_done`). So a run
killed half way resumes after the last batch it committed, and a file imported whole is not
imported again: the import is known by the site, the format and the file's bytes (SHA-256).
A line that cannot be taken is skipped with its number and reason; the report counts them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgspec

from footfall import accounts
from footfall.clock import Clock
from footfall.enrich.geo import GeoLookup
from footfall.enrich.networks import HostingNetworks
from footfall.enrich.spam import ReferrerSpam
from footfall.importing.formats import Skip, read
from footfall.ingest import history, pipeline
from footfall.ingest.pace import Pace
from footfall.ingest.payloads import PayloadError, WireEvent
from footfall.ingest.writer import EventWriter
from footfall.model import Event, Site
from footfall.store.base import Store, Tx, dumps, loads

BATCH = 2_000
PROCESS_BYTES = 4 << 20  # files larger than this are read by a process of their own
SHOWN = 20  # skipped lines reported one by one; the rest are counted


@dataclass
class Report:
    imported: int = 0
    lines: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason: detail), the first SHOWN
    already: bool = False  # the same file was imported into this site before: nothing done
    resumed_at: int = 0  # lines a killed run had committed


def file_id(path: Path, site: Site, fmt: str) -> str:
    """The import's identity: the site, the format and the file's content (decompressed: the same
    log gzipped twice differs in its header's time, not in its lines)."""
    digest = hashlib.sha256(f"{site.id}\n{fmt}\n".encode())
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def lines_of(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as text:
        for line in text:
            yield line.rstrip("\r\n")


@dataclass
class Batch:
    """A batch of lines made ready to write: its last line, its events, why the others were skipped."""

    last: int
    events: list[Event]
    skipped: Counter[str]
    problems: list[tuple[int, str]]


@dataclass
class Reader:
    """Reads a file into batches of events (formats, history steps); picklable, so that a process
    of its own can run it beside the writer."""

    path: Path
    site: Site
    fmt: str
    now: int  # when the import started: the server's time of receipt of every event it reads
    geo: GeoLookup
    hosting: HostingNetworks
    spam: ReferrerSpam
    batch: int = BATCH
    options: dict[str, Any] = field(default_factory=dict)

    def batches(self, after: int) -> Iterator[Batch]:
        """The batches of the lines after line `after` (committed by an earlier run)."""
        context = pipeline.Context(self.geo, self.hosting, self.spam, Pace())
        pending: list[tuple[int, dict[str, Any] | Skip]] = []
        last = after
        for item in read(self.fmt, lines_of(self.path), self.site.domain, **self.options):
            if item[0] <= after:
                continue
            pending.append(item)
            last = item[0]
            if len(pending) >= self.batch:
                yield self._prepare(context, pending)
                pending = []
        if pending:
            yield self._prepare(context, pending)
        elif last == after:
            yield Batch(last, [], Counter(), [])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["geo"] = (self.geo.paths, self.geo.asn_paths)  # its open databases stay here
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["geo"] = GeoLookup(*state["geo"])
        self.__dict__.update(state)

    def _prepare(self, context: pipeline.Context, items: list[tuple[int, dict[str, Any] | Skip]]) -> Batch:
        now = self.now
        batch = Batch(items[-1][0], [], Counter(), [])
        for number, value in items:
            reason = self._event(context, value, now, batch.events)
            if reason is not None:
                batch.skipped[reason.reason] += 1
                if len(batch.problems) < SHOWN:
                    said = f"{reason.reason}: {reason.detail}" if reason.detail else reason.reason
                    batch.problems.append((number, said))
        batch.events.sort(key=lambda e: e.ts)  # in time order: fewer late events for the writer
        return batch

    def _event(
        self, context: pipeline.Context, value: dict[str, Any] | Skip, now: int, into: list[Event]
    ) -> Skip | None:
        if isinstance(value, Skip):
            return value
        site = self.site
        value.setdefault("websiteId", site.id)
        if value["websiteId"] != site.id:
            return Skip("another site", f"websiteId {str(value['websiteId'])[:40]!r}")
        try:
            wire = msgspec.convert(value, WireEvent)
            c = history.candidate(wire, now, site, context)
        except msgspec.ValidationError as exc:
            return Skip("malformed", str(exc))
        except PayloadError as exc:
            return Skip("refused", str(exc))
        reason = pipeline.run(c, history.STEPS)
        if reason is not None:
            return Skip(f"filtered: {reason}")
        into.append(c.event)
        return None


_encode = msgspec.msgpack.Encoder().encode
_decode_batch = msgspec.msgpack.Decoder(tuple[int, list[Event], dict[str, int], list[tuple[int, str]]]).decode


def _read_in_process(reader: Reader, after: int, conn: Connection) -> None:
    """The reader process: batches down the pipe, then None."""
    try:
        for b in reader.batches(after):
            conn.send_bytes(_encode((b.last, b.events, dict(b.skipped), b.problems)))
    finally:
        conn.send_bytes(b"")
        conn.close()


def in_process(reader: Reader, after: int) -> Iterator[Batch]:
    """`reader.batches(after)` read by a process of its own: two cores, one reading and one writing."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=_read_in_process, args=(reader, after, theirs),
                                                         daemon=True)  # fmt: skip
    child.start()
    theirs.close()
    try:
        while data := ours.recv_bytes():
            last, events, skipped, problems = _decode_batch(data)
            yield Batch(last, events, Counter(skipped), [tuple(p) for p in problems])  # type: ignore[misc]
    except EOFError:
        raise RuntimeError("the import's reader process ended early") from None
    finally:
        child.kill()
        child.join()


@dataclass
class Importer:
    store: Store
    writer: EventWriter
    geo: GeoLookup
    clock: Clock
    hosting: HostingNetworks = field(default_factory=HostingNetworks)
    spam: ReferrerSpam = field(default_factory=ReferrerSpam)
    batch: int = BATCH
    reader_process: bool | None = None  # None: when the file is larger than PROCESS_BYTES

    def run(
        self, path: Path, site_id: str, fmt: str, progress: Callable[[int], None] | None = None, **options: Any
    ) -> Report:
        site = self.store.read(lambda tx: accounts.get_site(tx, site_id))
        if site is None:
            raise ValueError(f"no site {site_id}")
        key = file_id(path, site, fmt)
        state = self.store.write(lambda tx: _begin(tx, key, site, path.name, fmt, self.clock.now_ms()))
        report = Report(resumed_at=state["lines_done"], imported=state["imported"], lines=state["lines_done"])
        report.skipped.update(loads(state["skipped_reasons"]))
        if state["finished_at"] is not None:
            report.already = True
            return report
        reader = Reader(path, site, fmt, self.clock.now_ms(), self.geo, self.hosting, self.spam, self.batch, options)
        separate = path.stat().st_size > PROCESS_BYTES if self.reader_process is None else self.reader_process
        batches = in_process(reader, report.resumed_at) if separate else reader.batches(report.resumed_at)
        self._inflight: tuple[Future[None], Batch, Counter[str]] | None = None
        try:
            finished = None
            for batch in batches:
                if finished is not None:
                    self._commit(key, finished, report, progress, last=False)
                finished = batch
            if finished is not None:
                self._commit(key, finished, report, progress, last=True)
            self._settle(report, progress, self._inflight)
        finally:
            self._settle(report, None, self._inflight)  # whatever happened, nothing is left queued
        return report

    def _settle(
        self,
        report: Report,
        progress: Callable[[int], None] | None,
        sent: tuple[Future[None], Batch, Counter[str]] | None,
    ) -> None:
        """Waits for a batch being written; the report counts it once it is committed."""
        if sent is None:
            return
        future, batch, counts = sent
        if self._inflight is sent:
            self._inflight = None
        future.result()
        report.imported += len(batch.events)
        report.skipped = counts
        report.problems.extend(batch.problems[: SHOWN - len(report.problems)])
        if progress:
            progress(batch.last - report.lines)
        report.lines = batch.last

    def _commit(
        self, key: str, batch: Batch, report: Report, progress: Callable[[int], None] | None, last: bool
    ) -> None:
        """Queues a batch behind the one being written (the store's writer runs them in order) and
        then waits for that one: reading the next overlaps with writing this."""
        counts = (self._inflight[2] if self._inflight else report.skipped) + batch.skipped
        now = self.clock.now_ms()

        def go(tx: Tx) -> None:
            if batch.events:
                self.writer(tx, batch.events)
            tx.execute(
                "UPDATE imports SET lines_done = ?, imported = imported + ?, skipped = ?, skipped_reasons = ?, "
                "finished_at = ? WHERE id = ?",
                (batch.last, len(batch.events), sum(counts.values()), dumps(dict(counts)), now if last else None, key),
            )

        previous, self._inflight = self._inflight, (self.store.submit(go), batch, counts)
        self._settle(report, progress, previous)


def _begin(tx: Tx, key: str, site: Site, source: str, fmt: str, now: int) -> dict[str, Any]:
    tx.execute(
        "INSERT INTO imports (id, site_num, source, format, started_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        (key, site.num, source, fmt, now),
    )
    row = tx.one("SELECT * FROM imports WHERE id = ?", (key,))
    assert row is not None
    return dict(row)
