"""Lead-scoring features of a site's visitors, and their outcome (docs/scoring.md).

One row per visitor (its matched browsers together). A conversion is a payment not refunded, or a
goal the site marks as a conversion (site setting `conversion_goals`). A converted visitor's
features count only what it did before its first conversion, so the model learns what leads to
one, not what follows it. Recency is left out on purpose: for visitors who never converted it
would be measured at training time, and it would tell the model when the data was taken.

Visitors are read in chunks through the per-visitor indexes, so a site of any size is read with
bounded memory, and the scoring job can read only the visitors active since its last run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from footfall.enrich.email import kind_of
from footfall.store.base import Tx

INTENT = re.compile(r"/(pricing|plans|demo|signup|sign-up|register|trial|checkout|buy|contact|quote)(/|$)", re.I)
ROOT = "COALESCE(v.alias_of, v.num)"
NEVER = 2**62
CHUNK = 500  # visitors read per query


@dataclass
class Visitor:
    root: int  # the visitor's num (an alias's root)
    features: dict[str, Any]
    converted: bool


def conversions(tx: Tx, site_num: int, conversion_goals: list[str]) -> dict[int, int]:
    """Each converted visitor's first conversion time: its first payment not refunded, or its first
    completion of a conversion goal."""
    first: dict[int, int] = {}
    rows = tx.all(
        f"SELECT {ROOT} AS root, MIN(p.ts) AS ts FROM payments p JOIN visitors v ON v.num = p.visitor_num "
        f"WHERE p.site_num = ? AND p.refunded = 0 GROUP BY {ROOT}",
        (site_num,),
    )
    if conversion_goals:
        rows += tx.all(
            f"SELECT {ROOT} AS root, MIN(e.ts) AS ts FROM events e JOIN visitors v ON v.num = e.visitor_num "
            f"WHERE e.site_num = ? AND e.type = 'custom' AND e.name IN ({', '.join('?' * len(conversion_goals))}) "
            f"GROUP BY {ROOT}",
            (site_num, *conversion_goals),
        )
    for r in rows:
        first[r["root"]] = min(first.get(r["root"], NEVER), r["ts"])
    return first


def conversion_count(tx: Tx, site_num: int, conversion_goals: list[str]) -> int:
    """Outcomes recorded so far (payments and conversion-goal completions): the scoring job retrains
    when enough new ones came in. Two indexed counts, no visitor is read."""
    paid = tx.one("SELECT COUNT(*) AS n FROM payments WHERE site_num = ? AND refunded = 0", (site_num,))
    n = int(paid["n"]) if paid else 0
    if conversion_goals:
        goals = tx.one(
            f"SELECT COUNT(*) AS n FROM events WHERE site_num = ? AND type = 'custom' "
            f"AND name IN ({', '.join('?' * len(conversion_goals))})",
            (site_num, *conversion_goals),
        )
        n += int(goals["n"]) if goals else 0
    return n


def all_roots(tx: Tx, site_num: int) -> list[int]:
    return [
        r["root"]
        for r in tx.all(
            f"SELECT DISTINCT {ROOT} AS root FROM sessions s JOIN visitors v ON v.num = s.visitor_num "
            "WHERE s.site_num = ? ORDER BY root",
            (site_num,),
        )
    ]


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


def visitors(tx: Tx, site_num: int, conversion_goals: list[str], roots: Iterable[int] | None = None) -> list[Visitor]:
    """Feature rows of the site's visitors (or of `roots`) with activity before converting."""
    converted_at = conversions(tx, site_num, conversion_goals)
    wanted = all_roots(tx, site_num) if roots is None else sorted(set(roots))
    out: list[Visitor] = []
    for chunk in _chunks(wanted):
        out += _chunk(tx, chunk, converted_at)
    return out


def visitor_rows(tx: Tx, site_num: int, conversion_goals: list[str]) -> list[dict[str, Any]]:
    """Every visitor's features with a `converted` label (1/0): the trainer's input."""
    return [v.features | {"converted": int(v.converted)} for v in visitors(tx, site_num, conversion_goals)]


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _marks(values: list[Any]) -> str:
    return ", ".join("?" * len(values))


def _chunk(tx: Tx, roots: list[int], converted_at: dict[int, int]) -> list[Visitor]:
    browsers = tx.all(
        f"SELECT num, COALESCE(alias_of, num) AS root FROM visitors WHERE num IN ({_marks(roots)}) "
        f"OR alias_of IN ({_marks(roots)})",
        (*roots, *roots),
    )
    root_of = {b["num"]: b["root"] for b in browsers}
    nums = list(root_of)
    if not nums:
        return []
    cut = {r: converted_at.get(r, NEVER) for r in roots}
    activity: dict[int, dict[str, Any]] = {}
    for s in tx.all(
        "SELECT visitor_num, started_at, last_seen, channel, utm_source, device_type, country_code FROM sessions "
        f"WHERE visitor_num IN ({_marks(nums)}) ORDER BY started_at, num",
        nums,
    ):
        root = root_of[s["visitor_num"]]
        a = activity.setdefault(
            root,
            {
                "visits": 0,
                "pageviews": 0,
                "duration_s": 0.0,
                "intent_views": 0,
                "goals": 0,
                "first_channel": s["channel"] or "",
                "campaign": "yes" if s["utm_source"] else "no",
                "device": s["device_type"] or "",
                "country": s["country_code"] or "",
            },
        )
        if s["started_at"] < cut[root]:
            a["visits"] += 1
            a["duration_s"] += (min(s["last_seen"], cut[root]) - s["started_at"]) / 1000
    for e in tx.all(
        "SELECT visitor_num, ts, type, path FROM events "
        f"WHERE visitor_num IN ({_marks(nums)}) AND type IN ('pageview', 'custom')",
        nums,
    ):
        root = root_of[e["visitor_num"]]
        seen = activity.get(root)
        if seen is None or e["ts"] >= cut[root]:
            continue
        if e["type"] == "pageview":
            seen["pageviews"] += 1
            seen["intent_views"] += bool(INTENT.search(e["path"] or ""))
        else:
            seen["goals"] += 1
    emails = {
        root_of[r["num"]]: r["email"]
        for r in tx.all(
            f"SELECT v.num, p.email FROM visitors v JOIN people p ON p.num = v.person_num "
            f"WHERE v.num IN ({_marks(nums)}) AND p.email IS NOT NULL",
            nums,
        )
    }
    out = []
    for root, a in activity.items():
        if a["pageviews"] == 0:
            continue  # nothing seen before converting
        email = emails.get(root)
        features = a | {"returning": "yes" if a["visits"] > 1 else "no"}
        features["email_kind"] = kind_of(email) if email else "none"
        out.append(Visitor(root, features, cut[root] < NEVER))
    return out
