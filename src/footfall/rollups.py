"""Analytics rollups: visit counts and visitor sets per 15-minute slot of visit starts.

A slot is folded once every visit that started in it is over (no event for the session idle time
and a margin, so no later event can extend it): its row holds the visits, bounces, summed
durations and the set of root visitors as a roaring bitmap. Readers take each slot that lies whole
inside a bucket from its row and compute everything else (recent visits, slots not folded yet,
slots cut by a range or bucket edge) from the sessions rows, so the two add up exactly: a slot's
visits are either all in its row or all read raw. Visitor counts are unions of sets, never sums.

Whatever changes a folded slot's visits (a browser split off its visitor, an erased visitor or
person) calls `forget_visits` in its own transaction: the slot's row is dropped (readers compute it
raw again), the site's generation moves (a fold computed before is not stored) and the fold picks
it up again. Every zone's offset is a multiple of 15 minutes, so local hours, days, weeks and
months start on a slot boundary.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyroaring import BitMap

from footfall.clock import Clock
from footfall.rollup_columns import (
    STEP,
    Codes,
    column,
    covered_slots,
    gaps,
    step_column,
    steps_array,
    uncolumn,
    unstep_column,
)
from footfall.rollup_keys import (  # noqa: F401  (the names readers of the rollups use)
    CAMPAIGN_KEYS,
    NAMES,
    ROOT,
    SLOT_MS,
    STARTED_IN,
    VISIT_KEYS,
    Activity,
    KeyTexts,
    Pairs,
    key_text,
    step_key,
    visit_events,
    visits_sql,
)
from footfall.rollup_visits import DICTIONARIES, VisitColumns
from footfall.store.base import Store, Tx

log = logging.getLogger("footfall.rollups")

MARGIN_MS = 5 * 60_000  # beyond the idle time: an event accepted but not yet written cannot extend a folded visit
CHUNK_SLOTS = 96  # slots folded per transaction (a day): short write transactions beside the event writer
MAX_NUM = 2**32 - 1  # the bitmaps hold 32-bit visitor nums


Folded = tuple[int, "Tally", Pairs, VisitColumns]  # a slot's rollup row, breakdown columns and visit columns


def slot_of(ms: int) -> int:
    return ms - ms % SLOT_MS


@dataclass
class Tally:
    """Visits and their distinct visitors: what a bucket of overview or time series counts."""

    visitors: BitMap = field(default_factory=BitMap)
    sessions: int = 0
    bounces: int = 0  # visits with at most one page view
    pageviews: int = 0
    duration: int = 0  # sum of (last event - first event), ms

    def add_visit(self, root: int, pageviews: int, duration: int) -> None:
        self.visitors.add(root)
        self.sessions += 1
        self.bounces += pageviews <= 1
        self.pageviews += pageviews
        self.duration += duration

    def add(self, other: Tally) -> None:
        self.visitors |= other.visitors
        self.sessions += other.sessions
        self.bounces += other.bounces
        self.pageviews += other.pageviews
        self.duration += other.duration


def tallies(tx: Tx, site_num: int, bounds: Sequence[int]) -> list[Tally]:
    """One Tally per bucket [bounds[i], bounds[i+1]) of visit starts, from rollups where whole slots
    are folded and from the sessions rows elsewhere."""
    out = [Tally() for _ in range(len(bounds) - 1)]
    if not out:
        return out
    lo, hi = bounds[0], bounds[-1]
    covered: list[int] = []
    for row in tx.all(
        "SELECT slot, sessions, bounces, pageviews, duration, visitors FROM rollups "
        "WHERE site_num = ? AND slot >= ? AND slot <= ? ORDER BY slot",
        (site_num, lo, hi - SLOT_MS),
    ):
        slot = row["slot"]
        i = bisect.bisect_right(bounds, slot) - 1
        if slot + SLOT_MS > bounds[i + 1]:
            continue  # a bucket edge cuts the slot: computed raw
        t = out[i]
        if row["sessions"]:
            t.visitors |= BitMap.deserialize(bytes(row["visitors"]))
        t.sessions += row["sessions"]
        t.bounces += row["bounces"]
        t.pageviews += row["pageviews"]
        t.duration += row["duration"]
        covered.append(slot)
    for start, end in gaps(lo, hi, covered):
        for v in tx.all(visits_sql(STARTED_IN), (site_num, start, end)):
            i = bisect.bisect_right(bounds, v["started_at"]) - 1
            out[i].add_visit(v["root"], v["pageviews"], v["last_seen"] - v["started_at"])
    return out


def forget_visits(tx: Tx, where: str, params: Sequence[Any]) -> None:
    """Before visits change or go (`where` selects them in `sessions`): their slots are folded again."""
    rows = tx.all(
        f"SELECT DISTINCT site_num, started_at - started_at % {SLOT_MS} AS slot FROM sessions WHERE {where}", params
    )
    by_site: dict[int, set[int]] = {}
    for r in rows:
        by_site.setdefault(r["site_num"], set()).add(r["slot"])
    forget_slots(tx, by_site)


def forget_slots(tx: Tx, starts: dict[int, set[int]]) -> None:
    """Per site, the slots of these visit starts (ms) are folded again: their rows go, the site's
    generation moves (a fold computed before is not stored) and its mark goes back to the first."""
    for site_num, times in starts.items():
        slots = sorted({slot_of(t) for t in times})
        for i in range(0, len(slots), 500):
            chunk = slots[i : i + 500]
            for table in ("rollups", "rollup_columns"):
                tx.execute(
                    f"DELETE FROM {table} WHERE site_num = ? AND slot IN ({','.join('?' * len(chunk))})",
                    (site_num, *chunk),
                )
        first = slots[0]
        tx.execute(
            "UPDATE rollup_state SET generation = generation + 1, "
            "folded_upto = CASE WHEN folded_upto > ? THEN ? ELSE folded_upto END WHERE site_num = ?",
            (first, first, site_num),
        )


class Rollups:
    """The fold: a background job (every minute), also run by `footfall rollups fold` and tests."""

    def __init__(self, store: Store, clock: Clock, idle_ms: int) -> None:
        self.store = store
        self.clock = clock
        self.idle_ms = idle_ms

    def fold(self) -> int:
        """Folds every site's finished slots; answers how many slots were stored."""
        sites = self.store.read(lambda tx: [r["num"] for r in tx.all("SELECT num FROM sites ORDER BY num")])
        return sum(self.fold_site(num) for num in sites)

    def fold_site(self, site_num: int) -> int:
        cutoff = self.clock.now_ms() - self.idle_ms - MARGIN_MS  # visits seen after this may go on
        end = slot_of(cutoff)  # slots before it ended before the cutoff
        start = self.store.read(lambda tx: _mark(tx, site_num))
        if start is None:
            start = self.store.write(lambda tx: _begin(tx, site_num))
        if start is None:
            return 0  # no visits yet
        stored = 0
        while start < end:
            chunk_end = min(end, start + CHUNK_SLOTS * SLOT_MS)
            written, open_from = self._fold_chunk(site_num, start, chunk_end, cutoff)
            if written is None:
                return stored  # invalidated meanwhile: the next run starts again from the new mark
            stored += written
            if open_from is not None and open_from < chunk_end:
                return stored  # a visit still going: the mark waits for it (later slots were stored)
            start = chunk_end
        return stored

    def _fold_chunk(self, site_num: int, start: int, end: int, cutoff: int) -> tuple[int | None, int | None]:
        """Reads in one transaction, stores in another (short, beside the event writer): (slots
        stored or None when invalidated meanwhile, the first slot with a visit still going)."""
        generation = self.store.read(lambda tx: _generation(tx, site_num))
        rows, open_from = self.store.read(lambda tx: self._compute(tx, site_num, start, end, cutoff))
        upto = end if open_from is None else open_from
        return self.store.write(lambda tx: _store(tx, site_num, generation, rows, upto, start)), open_from

    def _compute(self, tx: Tx, site_num: int, start: int, end: int, cutoff: int) -> tuple[list[Folded], int | None]:
        """Rollups of the slots in [start, end) not stored yet and whose visits are all over, and the
        first slot with a visit still going (None when there is none)."""
        done = {
            r["slot"]
            for r in tx.all(
                "SELECT slot FROM rollups WHERE site_num = ? AND slot >= ? AND slot < ?", (site_num, start, end)
            )
        }
        slots: dict[int, Tally] = {s: Tally() for s in range(start, end, SLOT_MS) if s not in done}
        texts = KeyTexts()
        pairs: dict[int, Pairs] = {s: Pairs(texts) for s in slots}
        columns: dict[int, VisitColumns] = {s: VisitColumns() for s in slots}
        open_slots: set[int] = set()
        visits = [v for v in tx.all(visits_sql(STARTED_IN, keys=True), (site_num, start, end))]
        did = visit_events(tx, site_num, visits)
        for v in visits:
            slot = slot_of(v["started_at"])
            if slot not in slots:
                continue
            if v["last_seen"] >= cutoff:
                open_slots.add(slot)
            elif v["root"] > MAX_NUM:
                raise OverflowError(f"visitor num {v['root']} does not fit the 32-bit rollup bitmaps")
            else:
                slots[slot].add_visit(v["root"], v["pageviews"], v["last_seen"] - v["started_at"])
                activity = did.get(v["num"]) or Activity()
                pairs[slot].add_visit(v, activity)
                columns[slot].add(v, activity)
        rows = [(s, t, pairs[s], columns[s]) for s, t in slots.items() if s not in open_slots]
        return rows, min(open_slots) if open_slots else None


def _mark(tx: Tx, site_num: int) -> int | None:
    row = tx.one("SELECT folded_upto FROM rollup_state WHERE site_num = ?", (site_num,))
    return None if row is None else int(row["folded_upto"])


def _begin(tx: Tx, site_num: int) -> int | None:
    """The site's first mark: the slot of its first visit (None without visits)."""
    if (mark := _mark(tx, site_num)) is not None:
        return mark
    first = tx.one("SELECT MIN(started_at) AS t FROM sessions WHERE site_num = ?", (site_num,))
    if first is None or first["t"] is None:
        return None
    tx.execute("INSERT INTO rollup_state (site_num, folded_upto) VALUES (?, ?)", (site_num, slot_of(first["t"])))
    return slot_of(first["t"])


def _generation(tx: Tx, site_num: int) -> int:
    row = tx.one("SELECT generation FROM rollup_state WHERE site_num = ?", (site_num,))
    return int(row["generation"]) if row else -1


def _store(tx: Tx, site_num: int, generation: int, rows: Iterable[Folded], upto: int, start: int) -> int | None:
    """Stores a fold computed at `generation`; None (nothing stored) when an invalidation came since."""
    if _generation(tx, site_num) != generation:
        return None
    rows = list(rows)
    done = {
        r["slot"]
        for r in tx.all(
            "SELECT slot FROM rollups WHERE site_num = ? AND slot >= ? AND slot < ?", (site_num, start, upto)
        )
    }
    rows = [r for r in rows if r[0] not in done]
    tx.executemany(
        "INSERT INTO rollups (site_num, slot, sessions, bounces, pageviews, duration, visitors) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(site_num, s, t.sessions, t.bounces, t.pageviews, t.duration, t.visitors.serialize()) for s, t, _, _ in rows],
    )
    codes = Codes(tx, site_num, (*NAMES, *DICTIONARIES))
    tx.executemany(
        "INSERT INTO rollup_columns (site_num, slot, name, data) VALUES (?, ?, ?, ?)",
        [
            (site_num, s, name, column(roots, codes.encode(name, keys, grow=True)))
            for s, _, pairs, _ in rows
            for name, (roots, keys) in pairs.by_name.items()
        ]
        + [
            (site_num, s, "steps", step_column(roots, codes.encode("steps", keys, grow=True), times))
            for s, _, pairs, _ in rows
            for roots, keys, times in [pairs.steps]
            if roots
        ]
        + [  # after the steps: a goal's code is the one its step was given
            (site_num, s, name, data)
            for s, _, _, visits in rows
            if visits.roots
            for name, data in visits.encode(codes, grow=True).items()
        ],
    )
    codes.save()
    tx.execute(
        "UPDATE rollup_state SET folded_upto = ? WHERE site_num = ? AND folded_upto = ?", (upto, site_num, start)
    )
    return len(rows)


def pairs(
    tx: Tx, site_num: int, name: str, lo: int, hi: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], dict[int, str]]:
    """(roots, codes, code -> key text) of one breakdown over the visits started in [lo, hi): the
    folded slots' columns, and the rows elsewhere (encoded with the same dictionary)."""
    covered = covered_slots(tx, site_num, lo, hi)
    roots_parts, codes_parts = [], []
    if covered:
        for data in tx.blobs(
            "SELECT data FROM rollup_columns WHERE site_num = ? AND name = ? AND slot >= ? AND slot <= ?",
            (site_num, name, covered[0], covered[-1]),
        ):
            r_roots, r_codes = uncolumn(data)
            roots_parts.append(r_roots)
            codes_parts.append(r_codes)
    codes = Codes(tx, site_num, [name])
    raw = Pairs(KeyTexts())
    for start, end in gaps(lo, hi, covered):
        visits = tx.all(visits_sql(STARTED_IN, keys=True), (site_num, start, end))
        did = visit_events(tx, site_num, visits) if name == "pages" else {}
        for v in visits:
            raw.add_visit(v, did.get(v["num"]) or Activity())
    if name in raw.by_name:
        raw_roots, raw_keys = raw.by_name[name]
        roots_parts.append(np.array(raw_roots, dtype="<u4"))
        codes_parts.append(np.array(codes.encode(name, raw_keys, grow=False), dtype="<u4"))
    if not roots_parts:
        return np.zeros(0, dtype="<u4"), np.zeros(0, dtype="<u4"), {}
    return np.concatenate(roots_parts), np.concatenate(codes_parts), codes.keys(name)


def steps(tx: Tx, site_num: int, lo: int, hi: int) -> tuple[np.ndarray[Any, Any], dict[int, str]]:
    """(records of (root, code, time), code -> step key) of the page views and goals of the visits
    started in [lo, hi) (funnels: queries/funnels.py): the folded slots' steps, and the rows elsewhere."""
    covered = covered_slots(tx, site_num, lo, hi)
    parts: list[np.ndarray[Any, Any]] = []
    if covered:
        folded = tx.blobs(
            "SELECT data FROM rollup_columns WHERE site_num = ? AND name = 'steps' AND slot >= ? AND slot <= ?",
            (site_num, covered[0], covered[-1]),
        )
        parts.append(unstep_column(b"".join(folded)))  # one array: no per-slot copies
    codes = Codes(tx, site_num, ["steps"])
    raw = Pairs(KeyTexts())
    for start, end in gaps(lo, hi, covered):
        visits = tx.all(visits_sql(STARTED_IN, keys=True), (site_num, start, end))
        did = visit_events(tx, site_num, visits)
        for v in visits:
            raw.add_visit(v, did.get(v["num"]) or Activity(), keys=False)
    roots, keys, times = raw.steps
    if roots:  # a key not folded yet gets a code past the known ones
        parts.append(steps_array(roots, codes.encode("steps", keys, grow=False), times))
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=STEP)), codes.keys("steps")
