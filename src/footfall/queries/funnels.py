"""Funnels (docs/api.md, "Funnels"): how many visitors went through steps in order, and where the
others dropped.

Definitions (footfall's, as Plausible's and PostHog's funnels count):
- A step is a page (a path; `*` matches any characters, so `/blog/*` is every post) or a goal (its
  name). A funnel has 2 to 8 steps.
- The unit is the visitor (its matched browsers count once). A visitor enters at its first event
  of step 1 in the range's visits (visits started in the range, kept by the filters, as the
  analytics API counts them) and reaches step k at its first event of step k after the moment it
  reached step k-1 (the same millisecond counts), in any of those visits: other pages may come
  between, and one event never completes two steps.
- Per step: the visitors who reached it, its share of those who entered (`conversionRate`) and of
  those who reached the step before (`stepConversionRate`), those lost since the step before
  (`dropOff`), and some of the visitors lost there (`dropped`, most recent first).

Without filters the steps come from the rollups' `steps` columns (every page view and goal of a
folded slot with its time) and the rows of the slots not folded; with filters, from the events of
the visits kept. Both give the same numbers (tests/api/test_funnels.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from footfall import ids, rollups
from footfall.clock import iso_ms
from footfall.queries import analytics as a
from footfall.queries.ranges import BadQuery
from footfall.queries.visitor_list import named
from footfall.rollup_columns import steps_array
from footfall.store.base import Tx, dumps

KINDS = ("page", "goal")
MIN_STEPS, MAX_STEPS = 2, 8
DROPPED = 50  # visitors listed per step where they dropped


@dataclass(frozen=True)
class Step:
    kind: str  # page | goal
    value: str  # a path pattern, or a goal's name

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadQuery(f"a step's type is page or goal, not {self.kind!r}")
        if not self.value or len(self.value) > 500:
            raise BadQuery(f"a {self.kind} step needs a value (at most 500 characters)")
        if self.kind == "page" and not self.value.startswith(("/", "*")):
            raise BadQuery(f"a page step is a path starting with / (or *): {self.value!r}")

    def matches(self, kind: str, value: str) -> bool:
        if kind != self.kind:
            return False
        if self.kind == "goal" or "*" not in self.value:
            return value == self.value
        return re.fullmatch(".*".join(re.escape(part) for part in self.value.split("*")), value) is not None

    def body(self) -> dict[str, str]:
        return {"type": self.kind, "value": self.value}


def parse_step(raw: str) -> Step:
    """`page:/pricing*` or `goal:signup` (a query parameter's form)."""
    kind, sep, value = raw.partition(":")
    if not sep:
        raise BadQuery(f"step {raw!r}: expected page:<path> or goal:<name>")
    return Step(kind.strip(), value.strip())


def steps_of(given: list[Any]) -> list[Step]:
    """Steps from query parameters (`page:/x`) or JSON objects ({"type", "value"})."""
    found = [
        parse_step(s) if isinstance(s, str) else Step(str(s.get("type", "")), str(s.get("value", "")).strip())
        for s in given
        if isinstance(s, (str, dict))
    ]
    if len(found) != len(given):
        raise BadQuery('each step is "page:<path>", "goal:<name>" or {"type": ..., "value": ...}')
    if not MIN_STEPS <= len(found) <= MAX_STEPS:
        raise BadQuery(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(found)}")
    return found


def _events(tx: Tx, site_num: int, query: a.Query) -> tuple[Any, dict[int, str]]:
    """(records of (root, code, time), code -> step key) of the steps of the range's visits kept by
    the filters."""
    if not query.filters:
        return rollups.steps(tx, site_num, *a.span(query))
    kept = a.load(tx, site_num, query).visits
    did = rollups.visit_events(tx, site_num, kept)
    codes: dict[str, int] = {}
    roots, found, times = [], [], []
    for v in kept:
        for ts, key in did[v["num"]].steps if v["num"] in did else ():
            roots.append(v["root"])
            found.append(codes.setdefault(key, len(codes)))
            times.append(ts)
    return steps_array(roots, found, times), {c: k for k, c in codes.items()}


NONE = np.iinfo(np.int64).max


def _first_after(roots: Any, positions: Any, times: Any, before: tuple[Any, Any] | None) -> tuple[Any, Any]:
    """Per visitor, its first event among this step's (roots, positions into the time-ordered
    events, whose `times` are given) at or after the event it reached in `before` and not that one
    (sorted unique roots and their events' positions; None: no condition): the same for this step."""
    if before is not None:
        prev_roots, prev_positions = before
        at = np.searchsorted(prev_roots, roots)
        inside = at < len(prev_roots)
        inside[inside] = prev_roots[at[inside]] == roots[inside]
        roots, positions, prev = roots[inside], positions[inside], prev_positions[at[inside]]
        # the same millisecond counts (a goal sent as its page loads), the same event does not
        later = (times[positions] > times[prev]) | ((times[positions] == times[prev]) & (positions != prev))
        roots, positions = roots[later], positions[later]
    if not len(roots):
        return roots, positions
    first = np.full(int(roots.max()) + 1, NONE, dtype=np.int64)  # per root: its earliest event
    np.minimum.at(first, roots, positions)
    found = np.flatnonzero(first != NONE)
    return found, first[found]


def funnel(tx: Tx, site_num: int, query: a.Query, steps: list[Step], dropped: int = DROPPED) -> dict[str, Any]:
    events, keys = _events(tx, site_num, query)
    member = np.zeros(max(keys, default=0) + 1, dtype=np.uint16)  # per code: bit i when it is step i's
    for i, step in enumerate(steps):
        for code, key in keys.items():
            if step.matches(*json.loads(key)):
                member[code] |= 1 << i
    events = events[member[events["code"]] != 0]  # only the events of some step
    events = events[np.argsort(events["time"], kind="stable")]  # in time order (ties as read)
    roots, times, bits = events["root"].astype(np.int64), events["time"], member[events["code"]]
    reached: list[tuple[Any, Any]] = []
    for i in range(len(steps)):
        positions = np.flatnonzero(bits & (1 << i))
        reached.append(_first_after(roots[positions], positions, times, reached[i - 1] if i else None))
    lost: list[list[int]] = []
    for i in range(len(steps)):
        if i == 0:
            lost.append([])
            continue
        prev_roots, prev_positions = reached[i - 1]
        gone = ~np.isin(prev_roots, reached[i][0])
        recent = np.argsort(-prev_positions[gone], kind="stable")[:dropped]  # the latest to reach it first
        lost.append(prev_roots[gone][recent].tolist())
    people = _visitors(tx, [r for group in lost for r in group])
    entered = len(reached[0][0])
    out = []
    for i, step in enumerate(steps):
        n = len(reached[i][0])
        before = len(reached[i - 1][0]) if i else n
        out.append(
            step.body()
            | {
                "step": i + 1,
                "visitors": n,
                "conversionRate": round(100 * n / entered, 2) if entered else 0.0,
                "stepConversionRate": round(100 * n / before, 2) if before else 0.0,
                "dropOff": before - n,
                "dropOffRate": round(100 * (before - n) / before, 2) if before else 0.0,
                "dropped": [people[r] for r in lost[i] if r in people],
            }
        )
    completed = len(reached[-1][0])
    return {
        "steps": out,
        "entered": entered,
        "completed": completed,
        "conversionRate": round(100 * completed / entered, 2) if entered else 0.0,
    }


def _visitors(tx: Tx, roots: list[int]) -> dict[int, dict[str, Any]]:
    """The visitors (by num) as a funnel lists them: id, and the person's name when identified."""
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(roots), 500):
        chunk = roots[i : i + 500]
        rows = tx.all(f"SELECT num, id FROM visitors WHERE num IN ({','.join('?' * len(chunk))})", chunk)
        people = named(tx, [r["id"] for r in rows])
        for r in rows:
            person = people.get(r["id"])
            out[r["num"]] = {
                "visitorId": r["id"],
                "personId": person["person_id"] if person else None,
                "name": person["name"] if person else None,
            }
    return out


# -- saved funnels ----------------------------------------------------------------------------------


def funnel_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "steps": json.loads(row["steps"]),
        "createdAt": iso_ms(row["created_at"]),
    }


def saved(tx: Tx, site_num: int) -> list[dict[str, Any]]:
    rows = tx.all("SELECT id, name, steps, created_at FROM funnels WHERE site_num = ? ORDER BY num", (site_num,))
    return [funnel_json(r) for r in rows]


def find(tx: Tx, site_num: int, funnel_id: str) -> dict[str, Any] | None:
    row = tx.one("SELECT id, name, steps, created_at FROM funnels WHERE id = ? AND site_num = ?", (funnel_id, site_num))
    return funnel_json(row) if row else None


def save(tx: Tx, site_num: int, name: str, steps: list[Step], now_ms: int) -> dict[str, Any]:
    """A new saved funnel (the name is 1 to 100 characters)."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise BadQuery("name: 1 to 100 characters")
    row = {"id": "fun_" + ids.site_id(), "name": name, "steps": dumps([s.body() for s in steps]), "created_at": now_ms}
    tx.execute(
        "INSERT INTO funnels (id, site_num, name, steps, created_at) VALUES (?, ?, ?, ?, ?)",
        (row["id"], site_num, row["name"], row["steps"], now_ms),
    )
    return funnel_json(row)


def delete(tx: Tx, site_num: int, funnel_id: str) -> bool:
    found = tx.one("SELECT num FROM funnels WHERE id = ? AND site_num = ?", (funnel_id, site_num))
    if found:
        tx.execute("DELETE FROM funnels WHERE num = ?", (found["num"],))
    return found is not None
