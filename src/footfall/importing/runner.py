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
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
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
class Importer:
    store: Store
    writer: EventWriter
    geo: GeoLookup
    clock: Clock
    hosting: HostingNetworks = field(default_factory=HostingNetworks)
    spam: ReferrerSpam = field(default_factory=ReferrerSpam)
    batch: int = BATCH

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
        context = pipeline.Context(self.geo, self.hosting, self.spam, Pace())
        pending: list[tuple[int, dict[str, Any] | Skip]] = []
        self._inflight: tuple[Future[None], int, int, Counter[str]] | None = None
        try:
            for item in read(fmt, lines_of(path), site.domain, **options):
                if item[0] <= report.resumed_at:
                    continue  # committed by an earlier run
                pending.append(item)
                if len(pending) >= self.batch:
                    self._commit(key, site, context, pending, report, progress)
                    pending = []
            self._commit(key, site, context, pending, report, progress, finished=True)
            self._settle(report, progress, self._inflight)
        finally:
            self._settle(report, None, self._inflight)  # whatever happened, nothing is left queued
        return report

    def _settle(
        self,
        report: Report,
        progress: Callable[[int], None] | None,
        batch: tuple[Future[None], int, int, Counter[str]] | None,
    ) -> None:
        """Waits for a batch being written; the report counts it once it is committed."""
        if batch is None:
            return
        future, imported, lines, counts = batch
        if self._inflight is batch:
            self._inflight = None
        future.result()
        report.imported += imported
        report.skipped = counts
        if progress:
            progress(lines - report.lines)
        report.lines = lines

    def _commit(
        self,
        key: str,
        site: Site,
        context: pipeline.Context,
        items: list[tuple[int, dict[str, Any] | Skip]],
        report: Report,
        progress: Callable[[int], None] | None,
        finished: bool = False,
    ) -> None:
        """Prepares a batch while the one before is written, then queues it behind that one (the
        store's writer runs them in order), so reading and writing overlap."""
        now = self.clock.now_ms()
        events: list[Event] = []
        skipped: Counter[str] = Counter()
        for number, value in items:
            reason = self._event(site, context, number, value, now, events)
            if reason is not None:
                skipped[reason.reason] += 1
                if len(report.problems) < SHOWN:
                    report.problems.append(
                        (number, f"{reason.reason}: {reason.detail}" if reason.detail else reason.reason)
                    )
        events.sort(key=lambda e: e.ts)
        before = self._inflight[3] if self._inflight else report.skipped
        last = items[-1][0] if items else (self._inflight[2] if self._inflight else report.lines)
        counts = before + skipped

        def go(tx: Tx) -> None:
            if events:
                self.writer(tx, events)
            tx.execute(
                "UPDATE imports SET lines_done = ?, imported = imported + ?, skipped = ?, skipped_reasons = ?, "
                "finished_at = ? WHERE id = ?",
                (last, len(events), sum(counts.values()), dumps(dict(counts)), now if finished else None, key),
            )

        previous, self._inflight = self._inflight, (self.store.submit(go), len(events), last, counts)
        self._settle(report, progress, previous)

    def _event(
        self, site: Site, context: pipeline.Context, number: int, value: dict[str, Any] | Skip, now: int,
        into: list[Event],
    ) -> Skip | None:  # fmt: skip
        if isinstance(value, Skip):
            return value
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


def _begin(tx: Tx, key: str, site: Site, source: str, fmt: str, now: int) -> dict[str, Any]:
    tx.execute(
        "INSERT INTO imports (id, site_num, source, format, started_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        (key, site.num, source, fmt, now),
    )
    row = tx.one("SELECT * FROM imports WHERE id = ?", (key,))
    assert row is not None
    return dict(row)
