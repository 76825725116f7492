"""What a visit gives the rollups (rollups.py): the columns it is read with, its key in each
breakdown (a JSON value: `countries` is [name, code], `pages` one [hostname, path] per page it
viewed), and its steps for funnels (each page view and goal with its time)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from footfall.store.base import Row, Tx, loads

ROOT = "COALESCE(v.alias_of, v.num)"
SLOT_MS = 15 * 60_000
STARTED_IN = "s.site_num = ? AND s.started_at >= ? AND s.started_at < ?"


def visits_sql(where: str, keys: bool = False) -> str:
    """The visits `where` selects, with their root visitor (and with `keys`, what breakdowns group by)."""
    more = ", s.num, s.params, s.hostname, s.referrer_source, s.browser, s.os, s.device_type, s.country, "
    more += "s.country_code, s.region, s.city, s.utm_source, s.utm_medium, s.utm_campaign, s.entry_path, s.exit_path"
    return (
        f"SELECT s.started_at, s.last_seen, s.pageviews, {ROOT} AS root{more if keys else ''} FROM sessions s "
        f"JOIN visitors v ON v.num = s.visitor_num WHERE {where}"
    )


CAMPAIGN_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "ref", "source", "via")


# Each breakdown's key of a visit, from some of its columns (None: the visit has no value); keys
# are JSON values. `pages` has one key per page the visit viewed: [hostname, path].
def _campaign(params: str) -> list[Any] | None:
    values = loads(params)
    campaign = [values.get(k) for k in CAMPAIGN_KEYS]
    return campaign if any(campaign) else None


UNKNOWN = "unknown"
VISIT_KEYS: dict[str, tuple[tuple[str, ...], Callable[..., Any]]] = {
    # a visit whose user agent says nothing of these is "unknown" in their breakdowns, never left out
    "devices": (("device_type",), lambda d: d or UNKNOWN),
    "browsers": (("browser",), lambda b: b or UNKNOWN),
    "operating-systems": (("os",), lambda o: o or UNKNOWN),
    "countries": (("country", "country_code"), lambda name, code: [name, code] if name else None),
    "regions": (("region",), lambda r: r or None),
    "cities": (("city",), lambda c: c or None),
    "referrers": (("referrer_source",), lambda r: r or "Direct/None"),
    "hostnames": (("hostname",), lambda h: h or None),
    "campaigns": (("params",), _campaign),
    "entry-pages": (("hostname", "entry_path"), lambda h, p: [h, p] if p else None),
    "exit-pages": (("hostname", "exit_path"), lambda h, p: [h, p] if p else None),
}
NAMES = (*VISIT_KEYS, "pages", "steps")  # "steps": page views and goals with their time (funnels)


def key_text(key: Any) -> str:
    return json.dumps(key, separators=(",", ":"), ensure_ascii=False)


def step_key(kind: str, value: str) -> str:
    """A funnel step's key: ["page", path] for a page view, ["goal", name] for a goal."""
    return key_text([kind, value])


@dataclass
class Activity:
    """What a visit did, as the rollups keep it: the pages it viewed (key texts of [hostname,
    path]) and its steps (time, step key) for funnels: each page view and goal."""

    pages: set[str] = field(default_factory=set)
    steps: list[tuple[int, str]] = field(default_factory=list)


def visit_events(tx: Tx, site_num: int, visits: list[Row]) -> dict[int, Activity]:
    """Each of these visits' page views and goals: page views from the span they lie in (the first
    start to the last end), goals from the first start on (a goal sent by a server joins the
    visitor's latest visit without moving its end; the goals index holds just them)."""
    if not visits:
        return {}
    nums = {v["num"] for v in visits}
    since, until = min(v["started_at"] for v in visits), max(v["last_seen"] for v in visits)
    found: dict[int, Activity] = {}
    pages: dict[tuple[str, str], tuple[str, str]] = {}  # key texts, made once per page (a fold sees millions)
    goals: dict[str, str] = {}
    columns = "SELECT e.session_num, e.type, e.hostname, e.path, e.name, e.ts FROM events e WHERE e.site_num = ?"
    rows = tx.all(f"{columns} AND e.ts >= ? AND e.ts <= ? AND e.type = 'pageview'", (site_num, since, until))
    rows += tx.all(f"{columns} AND e.ts >= ? AND e.type = 'custom'", (site_num, since))
    for e in rows:
        if e["session_num"] not in nums:
            continue
        visit = found.get(e["session_num"])
        if visit is None:
            visit = found[e["session_num"]] = Activity()
        if e["type"] == "pageview":
            page = pages.get((e["hostname"], e["path"]))
            if page is None:
                page = pages[(e["hostname"], e["path"])] = (
                    key_text([e["hostname"], e["path"]]),
                    step_key("page", e["path"]),
                )
            visit.pages.add(page[0])
            visit.steps.append((e["ts"], page[1]))
        elif e["name"]:
            goal = goals.get(e["name"]) or goals.setdefault(e["name"], step_key("goal", e["name"]))
            visit.steps.append((e["ts"], goal))
    return found


class KeyTexts:
    """Key texts of visits' values, each computed once per distinct value (a fold sees millions)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, tuple[Any, ...]], str | None] = {}

    def of(self, name: str, v: Row) -> str | None:
        columns, key_of = VISIT_KEYS[name]
        raw = tuple(v[c] for c in columns)
        found = self._seen.get((name, raw), self)
        if found is self:
            key = key_of(*raw)
            found = self._seen[(name, raw)] = None if key is None else key_text(key)
        return found  # type: ignore[return-value]


@dataclass
class Pairs:
    """(root visitor, key text) of each visit's value, per breakdown, and (root, step key, time) of
    each of its steps: what a slot's columns hold."""

    texts: KeyTexts
    by_name: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)
    steps: tuple[list[int], list[str], list[int]] = field(default_factory=lambda: ([], [], []))  # root, key, ts

    def add(self, name: str, root: int, key: str) -> None:
        roots, keys = self.by_name.setdefault(name, ([], []))
        roots.append(root)
        keys.append(key)

    def add_visit(self, v: Row, did: Activity, keys: bool = True) -> None:
        """The visit's keys (unless `keys` is false: a visit read without its columns) and steps."""
        for name in VISIT_KEYS if keys else ():
            key = self.texts.of(name, v)
            if key is not None:
                self.add(name, v["root"], key)
        for page in sorted(did.pages):
            self.add("pages", v["root"], page)
        for ts, key in did.steps:
            self.steps[0].append(v["root"])
            self.steps[1].append(key)
            self.steps[2].append(ts)
