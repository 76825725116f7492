"""The visits a query's filters keep, from the rollups' visit columns (rollup_visits.py): what
filtered overview, time series, breakdowns and goals count.

A filter is decided once per distinct value of its field (a few hundred values, in Python, with
the definitions of queries/analytics.py) and applied to every visit as a lookup in that table; a
`page` filter keeps a visit when one of its pages passes (`is_not`: when none is the page).
"""

from __future__ import annotations

import array
import functools
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyroaring import BitMap

from footfall import rollup_visits
from footfall.rollup_keys import CAMPAIGN_KEYS, VISIT_KEYS, key_text
from footfall.rollup_visits import Table
from footfall.rollups import Tally
from footfall.store.base import Tx


@dataclass
class Filter:
    dimension: str
    op: str
    values: list[str]


def positive(values: list[str], f: Filter) -> bool:
    """Whether one of a visit's values is what the filter names (`is_not` keeps the visits
    without such a value)."""
    found = [v.lower() for v in values]
    wanted = [w.lower() for w in f.values]
    if f.op == "contains":
        return any(w in v for v in found for w in wanted)
    return any(v in wanted for v in found)


def passes(values: list[str], f: Filter) -> bool:
    hit = positive(values, f)
    return not hit if f.op == "is_not" else hit


def _present(*values: Any) -> list[str]:
    return [v for v in values if v]


def _param(name: str) -> tuple[str, Callable[..., list[str]]]:
    at = CAMPAIGN_KEYS.index(name)
    return "params", lambda *raw: _present(raw[at])


# Each filter dimension's field (rollup_visits.FIELDS) and its values from the field's raw values.
FILTER_FIELDS: dict[str, tuple[str, Callable[..., list[str]]]] = {
    "country": ("country", _present),  # the name or the ISO code
    **{d: (d, _present) for d in ("region", "city", "device", "browser", "os", "referrer", "hostname")},
    **{d: (d, _present) for d in ("utm_source", "utm_medium", "utm_campaign")},
    "entry_page": ("entry", lambda host, path: _present(path)),
    "exit_page": ("exit", lambda host, path: _present(path)),
    **{d: _param(d) for d in ("utm_term", "utm_content", "ref", "source", "via")},
}
# Each breakdown's field; its key is the breakdown's (rollup_keys.VISIT_KEYS) of the raw values.
BREAKDOWN_FIELDS = {
    "devices": "device",
    "browsers": "browser",
    "operating-systems": "os",
    "countries": "country",
    "regions": "region",
    "cities": "city",
    "referrers": "referrer",
    "hostnames": "hostname",
    "campaigns": "params",
    "entry-pages": "entry",
    "exit-pages": "exit",
}


@dataclass(eq=False)
class Kept:
    """A range's visits and which of them the filters keep."""

    table: Table
    mask: np.ndarray[Any, Any]

    @functools.cached_property
    def roots(self) -> np.ndarray[Any, Any]:
        return self.table.roots[self.mask]

    def visitors(self) -> BitMap:
        return bitmap(self.roots)


def bitmap(roots: np.ndarray[Any, Any]) -> BitMap:
    return BitMap(array.array("I", roots.astype("<u4").tobytes()))


def read(
    tx: Tx,
    site_num: int,
    lo: int,
    hi: int,
    filters: Sequence[Filter],
    breakdowns: Sequence[str] = (),
    goals: bool = False,
    times: bool = False,
) -> Kept:
    """The visits started in [lo, hi), with what the filters, the breakdowns, goals and (`times`)
    overview and time series need."""
    fields = {FILTER_FIELDS[f.dimension][0] for f in filters if f.dimension != "page"}
    fields |= {BREAKDOWN_FIELDS[b] for b in breakdowns if b in BREAKDOWN_FIELDS}
    pages = "pages" in breakdowns or any(f.dimension == "page" for f in filters)
    table = rollup_visits.read(tx, site_num, lo, hi, fields, pages, goals, times)
    mask = np.ones(len(table.roots), dtype=bool)
    for f in filters:
        mask &= _keeps(table, f)
    return Kept(table, mask)


def _keeps(table: Table, f: Filter) -> np.ndarray[Any, Any]:
    if f.dimension == "page":
        paths = {code: json.loads(text)[1] for code, text in table.keys["pages"].items()}
        hits = _lookup({code: positive([path], f) for code, path in paths.items()})
        seen = np.zeros(len(table.roots), dtype=bool)
        pairs = table.pages
        seen[pairs["visit"][hits[pairs["code"]]]] = True
        return ~seen if f.op == "is_not" else seen
    name, values_of = FILTER_FIELDS[f.dimension]
    table_of = _lookup({code: passes(values_of(*raw), f) for code, raw in table.raw(name).items()})
    return table_of[table.fields[name]]  # type: ignore[no-any-return]


def _lookup(by_code: dict[int, bool]) -> np.ndarray[Any, Any]:
    out = np.zeros(max(by_code, default=0) + 1, dtype=bool)
    for code, hit in by_code.items():
        out[code] = hit
    return out


def tallies(kept: Kept, bounds: Sequence[int]) -> list[Tally]:
    """One Tally per bucket [bounds[i], bounds[i+1]) of the kept visits' starts."""
    n = len(bounds) - 1
    visits, roots = kept.table.times[kept.mask], kept.roots
    at = np.searchsorted(np.asarray(bounds, dtype=np.int64), visits["start"], side="right") - 1
    inside = (at >= 0) & (at < n)
    visits, roots, at = visits[inside], roots[inside], at[inside]
    if n > 1:  # by bucket: each bucket's visitors are one slice
        order = np.argsort(at, kind="stable")
        visits, roots, at = visits[order], roots[order], at[order]
    edges = np.searchsorted(at, np.arange(n + 1))
    sessions = np.bincount(at, minlength=n)
    bounces = np.bincount(at, weights=visits["pageviews"] <= 1, minlength=n)
    pageviews = np.bincount(at, weights=visits["pageviews"], minlength=n)
    duration = np.bincount(at, weights=visits["duration"], minlength=n)  # exact below 2**53 ms
    out = []
    for i in range(n):
        t = Tally(bitmap(roots[edges[i] : edges[i + 1]]))
        t.sessions, t.bounces = int(sessions[i]), int(bounces[i])
        t.pageviews, t.duration = int(pageviews[i]), int(duration[i])
        out.append(t)
    return out


def pairs(kept: Kept, name: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], dict[int, str]]:
    """(roots, codes, code -> key text) of one breakdown over the kept visits, as rollups.pairs."""
    table = kept.table
    if name == "pages":
        found = table.pages[kept.mask[table.pages["visit"]]]
        return table.roots[found["visit"]], found["code"], table.keys["pages"]
    field = BREAKDOWN_FIELDS[name]
    texts: dict[str, int] = {}
    to_key = {}
    for code, raw in table.raw(field).items():
        key = (list(raw) if any(raw) else None) if name == "campaigns" else VISIT_KEYS[name][1](*raw)
        to_key[code] = -1 if key is None else texts.setdefault(key_text(key), len(texts))
    lookup = np.full(max(to_key) + 1, -1, dtype=np.int64)
    for code, k in to_key.items():
        lookup[code] = k
    codes = lookup[table.fields[field]]
    keep = kept.mask & (codes >= 0)
    return table.roots[keep], codes[keep].astype("<u4"), {k: text for text, k in texts.items()}


def goals(kept: Kept) -> tuple[Counter[str], Counter[str]]:
    """(completions, distinct visitors) per goal name, over the kept visits."""
    found = kept.table.goals[kept.mask[kept.table.goals["visit"]]]
    names = {code: json.loads(text)[1] for code, text in kept.table.keys["steps"].items()}
    roots = kept.table.roots[found["visit"]].astype(np.uint64)
    joined = np.unique((found["code"].astype(np.uint64) << np.uint64(32)) | roots)
    completions = Counter({names[c]: int(n) for c, n in enumerate(np.bincount(found["code"]).tolist()) if n})
    per_goal = np.bincount((joined >> np.uint64(32)).astype(np.int64)) if len(joined) else np.zeros(0, np.int64)
    visitors = Counter({names[c]: int(n) for c, n in enumerate(per_goal.tolist()) if n})
    return completions, visitors
