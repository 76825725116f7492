"""Visitors' histories as lead scoring reads them from the store (docs/scoring.md).

A timeline is one visitor (its matched browsers together): its page views and goals in time order,
its visits, whether it is identified (and the kind of its email), and when it first converted (a
payment not refunded, or a goal the site counts as a conversion). Training, evaluation and live
scoring all read timelines through here and turn them into rows with the one function in
features.py, so what a model learns from is what it is later given.

Visitors are read in chunks through the per-visitor indexes, so a site of any size is read with
bounded queries, and the scoring job can read only the visitors active since its last run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from footfall.enrich.email import kind_of
from footfall.store.base import Row, Tx

ROOT = "COALESCE(v.alias_of, v.num)"
CHUNK = 500  # visitors read per query
PAGE, GOAL = 0, 1


@dataclass(slots=True)
class Visit:
    started_at: int
    last_seen: int
    channel: str
    campaign: bool
    device: str
    country: str


@dataclass(slots=True)
class Timeline:
    root: int
    events: list[tuple[int, int, str, str]] = field(default_factory=list)  # (ts, PAGE or GOAL, path, goal name)
    visits: list[Visit] = field(default_factory=list)  # by start
    email_kind: str = "none"  # business, personal, disposable; "none" when not identified by email
    identified: bool = False  # linked to a person
    converted_at: int | None = None

    @property
    def first_seen(self) -> int:
        return self.events[0][0] if self.events else self.visits[0].started_at

    def before(self, cut: int) -> list[tuple[int, int, str, str]]:
        """Its events strictly before `cut`, and never its conversion or what followed it."""
        end = cut if self.converted_at is None else min(cut, self.converted_at)
        return [e for e in self.events if e[0] < end]


def first_conversions(conversion_goals: list[str]) -> str:
    """SQL of each converted visitor's first conversion (root, ts); parameters: the site twice and
    the conversion goals."""
    goals = (
        f"UNION ALL SELECT {ROOT}, MIN(e.ts) FROM events e JOIN visitors v ON v.num = e.visitor_num "
        f"WHERE e.site_num = ? AND e.type = 'custom' AND e.name IN ({marks(conversion_goals)}) GROUP BY {ROOT} "
        if conversion_goals
        else "UNION ALL SELECT NULL, NULL WHERE ? IS NULL "
    )
    return (
        f"SELECT root, MIN(ts) AS ts FROM (SELECT {ROOT} AS root, MIN(p.ts) AS ts FROM payments p "
        f"JOIN visitors v ON v.num = p.visitor_num WHERE p.site_num = ? AND p.refunded = 0 GROUP BY {ROOT} "
        f"{goals}) firsts GROUP BY root"
    )


def conversions(tx: Tx, site_num: int, conversion_goals: list[str]) -> dict[int, int]:
    """Each converted visitor's first conversion time: its first payment not refunded, or its first
    completion of a conversion goal."""
    rows = tx.all(first_conversions(conversion_goals), (site_num, site_num, *conversion_goals))
    return {r["root"]: r["ts"] for r in rows if r["root"] is not None}


def conversion_count(tx: Tx, site_num: int, conversion_goals: list[str]) -> int:
    """Outcomes recorded so far (payments and conversion-goal completions): the scoring job retrains
    when enough new ones came in. Two indexed counts, no visitor is read."""
    paid = tx.one("SELECT COUNT(*) AS n FROM payments WHERE site_num = ? AND refunded = 0", (site_num,))
    n = int(paid["n"]) if paid else 0
    if conversion_goals:
        goals = tx.one(
            f"SELECT COUNT(*) AS n FROM events WHERE site_num = ? AND type = 'custom' "
            f"AND name IN ({marks(conversion_goals)})",
            (site_num, *conversion_goals),
        )
        n += int(goals["n"]) if goals else 0
    return n


def active_roots(tx: Tx, site_num: int, since: int) -> list[int]:
    """Visitors with an event or a payment at or after `since`."""
    rows = tx.all(
        f"SELECT DISTINCT {ROOT} AS root FROM events e JOIN visitors v ON v.num = e.visitor_num "
        "WHERE e.site_num = ? AND e.ts >= ?",
        (site_num, since),
    ) + tx.all(
        f"SELECT DISTINCT {ROOT} AS root FROM payments p JOIN visitors v ON v.num = p.visitor_num "
        "WHERE p.site_num = ? AND p.ts >= ?",
        (site_num, since),
    )
    return sorted({r["root"] for r in rows})


def read(tx: Tx, site_num: int, conversion_goals: list[str], roots: Iterable[int] | None = None) -> list[Timeline]:
    """The timelines of the site's visitors (or of `roots`) that viewed a page, by root. The whole
    site is read in three ordered scans (training: one round trip each, not one per chunk);
    chosen visitors in chunks through the per-visitor indexes (the job's runs between trainings)."""
    converted_at = conversions(tx, site_num, conversion_goals)
    goals = set(conversion_goals)
    if roots is None:
        visits = tx.all(
            f"SELECT s.visitor_num, {ROOT} AS root, s.started_at, s.last_seen, s.channel, s.utm_source, "
            "s.device_type, s.country_code FROM sessions s JOIN visitors v ON v.num = s.visitor_num "
            "WHERE s.site_num = ? ORDER BY s.started_at, s.num",
            (site_num,),
        )
        root_of = {r["visitor_num"]: r["root"] for r in visits}
        events = tx.all(
            "SELECT visitor_num, ts, type, path, name FROM events WHERE site_num = ? "
            "AND type IN ('pageview', 'custom') ORDER BY ts, id",
            (site_num,),
        )
        people = tx.all(
            "SELECT v.num, p.email FROM visitors v JOIN people p ON p.num = v.person_num WHERE p.site_num = ?",
            (site_num,),
        )
        return _timelines(sorted(set(root_of.values())), root_of, visits, events, people, converted_at, goals)
    out: list[Timeline] = []
    for chunk in _chunks(sorted(set(roots))):
        out += _chunk(tx, chunk, converted_at, goals)
    return out


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _chunk(tx: Tx, roots: list[int], converted_at: dict[int, int], conversion_goals: set[str]) -> list[Timeline]:
    root_of = {
        b["num"]: b["root"]
        for b in tx.all(
            f"SELECT num, COALESCE(alias_of, num) AS root FROM visitors WHERE num IN ({marks(roots)}) "
            f"OR alias_of IN ({marks(roots)})",
            (*roots, *roots),
        )
    }
    nums: list[object] = list(root_of)
    if not nums:
        return []
    visits = tx.all(
        "SELECT visitor_num, started_at, last_seen, channel, utm_source, device_type, country_code FROM sessions "
        f"WHERE visitor_num IN ({marks(nums)}) ORDER BY started_at, num",
        nums,
    )
    events = tx.all(
        "SELECT visitor_num, ts, type, path, name FROM events "
        f"WHERE visitor_num IN ({marks(nums)}) AND type IN ('pageview', 'custom') ORDER BY ts, id",
        nums,
    )
    people = tx.all(
        f"SELECT v.num, p.email FROM visitors v JOIN people p ON p.num = v.person_num WHERE v.num IN ({marks(nums)})",
        nums,
    )
    return _timelines(roots, root_of, visits, events, people, converted_at, conversion_goals)


def _timelines(
    roots: list[int],
    root_of: dict[int, int],
    visits: list[Row],
    events: list[Row],
    people: list[Row],
    converted_at: dict[int, int],
    conversion_goals: set[str],
) -> list[Timeline]:
    """Timelines from the visitors' visits and events (each in time order) and their people."""
    found = {r: Timeline(r, converted_at=converted_at.get(r)) for r in roots}
    for s in visits:
        found[root_of[s["visitor_num"]]].visits.append(
            Visit(
                s["started_at"],
                s["last_seen"],
                s["channel"] or "",
                bool(s["utm_source"]),
                s["device_type"] or "",
                s["country_code"] or "",
            )
        )
    for e in events:
        root = root_of.get(e["visitor_num"])
        if root is None:
            continue  # (a whole-site read) an event of a browser with no visit on this site
        if e["type"] == "pageview":
            found[root].events.append((e["ts"], PAGE, e["path"] or "/", ""))
        elif e["name"] not in conversion_goals:
            found[root].events.append((e["ts"], GOAL, e["path"] or "/", e["name"] or ""))
    for r in people:
        t = found.get(root_of.get(r["num"], -1))
        if t is None:
            continue
        t.identified = True
        if r["email"]:
            t.email_kind = kind_of(r["email"])
    return [t for t in found.values() if t.visits and any(e[1] == PAGE for e in t.events)]
