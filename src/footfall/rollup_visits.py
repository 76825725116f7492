"""The rollups' visit columns (rollups.py): what filtered analytics read.

Each folded slot with visits keeps, beside its breakdown columns:
- `visit-roots`: each visit's root visitor (uint32), in a fixed order, and `visit-times`: its
  start, duration and page views (what overview and time series count; breakdowns need only roots);
- `v:<field>`: for each field a filter or breakdown looks at, one code per visit in that order
  (0: the visit has no value; else the code of its raw values, a JSON list, in `rollup_codes`);
- `visit-pages`: (visit, page) pairs, the page's code as in the `pages` breakdown;
- `visit-goals`: (visit, goal) pairs, one per goal completion, the goal's code as in `steps`.

A query reads the fields it needs for the whole slots of its range and encodes the visits
elsewhere (not folded yet, or cut by the range) with the same dictionaries, so the two add up
exactly. A filter is then a test per distinct value (a few hundred), applied to the visits as a
lookup table: a mask over a million visits costs milliseconds, where reading the rows took seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from footfall.rollup_columns import Codes, covered_slots, gaps
from footfall.rollup_keys import CAMPAIGN_KEYS, STARTED_IN, Activity, key_text, visit_events, visits_sql
from footfall.store.base import Row, Tx, loads

TIMES = np.dtype([("start", "<i8"), ("duration", "<i8"), ("pageviews", "<u4")])  # a visit's, packed
PAIR = np.dtype([("visit", "<u4"), ("code", "<u4")])
GOAL_PREFIX = key_text(["goal", ""])[:-2]  # '["goal",': a goal's step key starts so


def _param_values(v: Row) -> tuple[Any, ...]:
    values = loads(v["params"])
    return tuple(values.get(k) for k in CAMPAIGN_KEYS)


def _columns(*names: str) -> Callable[[Row], tuple[Any, ...]]:
    return lambda v: tuple(v[n] for n in names)


# Each field's raw values of a visit (a tuple of its sessions columns, or its campaign parameters).
FIELDS: dict[str, Callable[[Row], tuple[Any, ...]]] = {
    "country": _columns("country", "country_code"),
    "region": _columns("region"),
    "city": _columns("city"),
    "device": _columns("device_type"),
    "browser": _columns("browser"),
    "os": _columns("os"),
    "referrer": _columns("referrer_source"),
    "hostname": _columns("hostname"),
    "utm_source": _columns("utm_source"),
    "utm_medium": _columns("utm_medium"),
    "utm_campaign": _columns("utm_campaign"),
    "entry": _columns("hostname", "entry_path"),
    "exit": _columns("hostname", "exit_path"),
    "params": _param_values,  # the campaign parameters, in CAMPAIGN_KEYS order
}
WIDTH = {"country": 2, "entry": 2, "exit": 2, "params": len(CAMPAIGN_KEYS)}  # raw values per field (else 1)


def code_name(name: str) -> str:
    return "v:" + name


DICTIONARIES = tuple(code_name(f) for f in FIELDS)  # beside the breakdowns' (pages, steps)


def raw_of(key: str | None, name: str) -> tuple[Any, ...]:
    """A field's raw values from its key text (None: no value)."""
    return (None,) * WIDTH.get(name, 1) if key is None else tuple(loads(key))


@dataclass
class VisitColumns:
    """One slot's visit columns while a fold (or a read of the rows) collects them."""

    roots: list[int] = field(default_factory=list)
    times: list[tuple[int, int, int]] = field(default_factory=list)
    keys: dict[str, list[str | None]] = field(default_factory=lambda: {f: [] for f in FIELDS})
    pages: list[tuple[int, str]] = field(default_factory=list)
    goals: list[tuple[int, str]] = field(default_factory=list)
    _texts: dict[tuple[Any, ...], str | None] = field(default_factory=dict)

    def add(self, v: Row, did: Activity) -> None:
        i = len(self.roots)
        self.roots.append(v["root"])
        self.times.append((v["started_at"], v["last_seen"] - v["started_at"], v["pageviews"]))
        for name, raw_of_visit in FIELDS.items():
            raw = raw_of_visit(v)
            text = self._texts.get(raw, self)
            if text is self:
                text = self._texts[raw] = key_text(list(raw)) if any(raw) else None
            self.keys[name].append(text)  # type: ignore[arg-type]
        self.pages.extend((i, page) for page in sorted(did.pages))
        self.goals.extend((i, key) for _, key in did.steps if key.startswith(GOAL_PREFIX))

    def encode(self, codes: Codes, grow: bool) -> dict[str, bytes]:
        """The slot's columns, as stored (`grow`: new keys get codes kept by `codes.save`)."""
        out = {
            "visit-roots": np.array(self.roots, dtype="<u4").tobytes(),
            "visit-times": np.array(self.times, dtype=TIMES).tobytes(),
        }
        for name, keys in self.keys.items():
            out[code_name(name)] = _codes(codes, code_name(name), keys, grow).tobytes()
        for column, dictionary, pairs in (("visit-pages", "pages", self.pages), ("visit-goals", "steps", self.goals)):
            found = np.empty(len(pairs), dtype=PAIR)
            found["visit"] = [i for i, _ in pairs]
            found["code"] = codes.encode(dictionary, [k for _, k in pairs], grow)
            out[column] = found.tobytes()
        return out


def _codes(codes: Codes, name: str, keys: list[str | None], grow: bool) -> np.ndarray[Any, Any]:
    out = np.zeros(len(keys), dtype="<u4")
    at = [i for i, k in enumerate(keys) if k is not None]
    if at:
        out[at] = codes.encode(name, [keys[i] for i in at], grow)  # type: ignore[misc]
    return out


@dataclass
class Table:
    """The visits started in a range, as aligned arrays: root visitors, times (when read), the
    codes of the fields read, and (visit, code) pairs of their pages and goals; with each
    dictionary (code -> key text)."""

    roots: np.ndarray[Any, Any]
    times: np.ndarray[Any, Any]
    fields: dict[str, np.ndarray[Any, Any]]
    pages: np.ndarray[Any, Any]
    goals: np.ndarray[Any, Any]
    keys: dict[str, dict[int, str]]

    def raw(self, name: str) -> dict[int, tuple[Any, ...]]:
        """A field's raw values per code (0: none)."""
        found = {code: raw_of(text, name) for code, text in self.keys[code_name(name)].items()}
        found[0] = raw_of(None, name)
        return found


def read(
    tx: Tx, site_num: int, lo: int, hi: int, fields: Iterable[str], pages: bool, goals: bool, times: bool
) -> Table:
    """The visits started in [lo, hi): whole folded slots from their columns, the rest from the rows."""
    fields = sorted(set(fields))
    dictionaries = [code_name(f) for f in fields] + ["pages"] * pages + ["steps"] * goals
    codes = Codes(tx, site_num, dictionaries)
    covered = covered_slots(tx, site_num, lo, hi)
    parts: dict[str, list[bytes]] = {}
    wanted = ["visit-roots", *(code_name(f) for f in fields)] + ["visit-times"] * times
    wanted += ["visit-pages"] * pages + ["visit-goals"] * goals
    if covered:
        for name in wanted:
            parts[name] = tx.blobs(
                "SELECT data FROM rollup_columns WHERE site_num = ? AND name = ? AND slot >= ? AND slot <= ? "
                "ORDER BY slot",
                (site_num, name, covered[0], covered[-1]),
            )
    raw = VisitColumns()
    for start, end in gaps(lo, hi, covered):
        visits = tx.all(visits_sql(STARTED_IN, keys=True), (site_num, start, end))
        did = visit_events(tx, site_num, visits) if pages or goals else {}
        for v in visits:
            raw.add(v, did.get(v["num"]) or Activity())
    if raw.roots:
        for name, data in raw.encode(codes, grow=False).items():
            if name in wanted:
                parts.setdefault(name, []).append(data)
    counts = np.array([len(b) // 4 for b in parts.get("visit-roots", [])], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype("<u4")  # each slot's first visit
    return Table(
        roots=_joined(parts.get("visit-roots", []), "<u4"),
        times=_joined(parts.get("visit-times", []), TIMES),
        fields={f: _joined(parts.get(code_name(f), []), "<u4") for f in fields},
        pages=_pairs(parts.get("visit-pages", []), offsets),
        goals=_pairs(parts.get("visit-goals", []), offsets),
        keys={name: codes.keys(name) for name in dictionaries},
    )


def _joined(blobs: list[bytes], dtype: Any) -> np.ndarray[Any, Any]:
    return np.frombuffer(b"".join(blobs), dtype=dtype)  # one copy of all the slots, no per-slot arrays


def _pairs(blobs: list[bytes], offsets: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The slots' (visit, code) pairs with visits numbered across the table (each slot's from its
    offset: the k-th blob is the k-th slot with visits, as every such slot has each column)."""
    pairs = _joined(blobs, PAIR).copy()
    pairs["visit"] += np.repeat(offsets[: len(blobs)], [len(b) // PAIR.itemsize for b in blobs])
    return pairs
