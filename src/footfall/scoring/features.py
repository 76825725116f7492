"""Lead-scoring features of a site's visitors, and their outcome (docs/scoring.md).

One row per visitor (its matched browsers together). A conversion is a payment not refunded, or a
goal the site marks as a conversion (site setting `conversion_goals`). A converted visitor's
features count only what it did before its first conversion, so the model learns what leads to
one, not what follows it. Recency is left out on purpose: for visitors who never converted it
would be measured at training time, and it would tell the model when the data was taken.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from footfall.enrich.email import kind_of
from footfall.store.base import Tx

INTENT = re.compile(r"/(pricing|plans|demo|signup|sign-up|register|trial|checkout|buy|contact|quote)(/|$)", re.I)
ROOT = "COALESCE(v.alias_of, v.num)"
NEVER = 2**62


def visitor_rows(tx: Tx, site_num: int, conversion_goals: list[str]) -> list[dict[str, Any]]:
    """Feature rows with a `converted` label (1/0), one per visitor with activity before converting."""
    converted_at: dict[int, int] = defaultdict(lambda: NEVER)
    for p in tx.all(
        f"SELECT {ROOT} AS root, MIN(p.ts) AS ts FROM payments p JOIN visitors v ON v.num = p.visitor_num "
        f"WHERE p.site_num = ? AND p.refunded = 0 GROUP BY {ROOT}",
        (site_num,),
    ):
        converted_at[p["root"]] = min(converted_at[p["root"]], p["ts"])
    events = tx.all(
        f"SELECT {ROOT} AS root, e.ts, e.type, e.name, e.path FROM events e JOIN visitors v ON v.num = e.visitor_num "
        "WHERE e.site_num = ? AND e.type IN ('pageview', 'custom') ORDER BY e.ts",
        (site_num,),
    )
    goals = set(conversion_goals)
    for e in events:  # a conversion goal converts at its first completion
        if e["type"] == "custom" and e["name"] in goals:
            converted_at[e["root"]] = min(converted_at[e["root"]], e["ts"])
    activity: dict[int, dict[str, Any]] = {}
    for s in tx.all(
        f"SELECT {ROOT} AS root, s.started_at, s.last_seen, s.channel, s.utm_source, s.device_type, "
        "s.country_code FROM sessions s JOIN visitors v ON v.num = s.visitor_num WHERE s.site_num = ? "
        "ORDER BY s.started_at",
        (site_num,),
    ):
        a = activity.setdefault(
            s["root"],
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
                "_first": s["started_at"],
            },
        )
        if s["started_at"] < converted_at[s["root"]]:
            a["visits"] += 1
            a["duration_s"] += (min(s["last_seen"], converted_at[s["root"]]) - s["started_at"]) / 1000
    for e in events:
        seen = activity.get(e["root"])
        if seen is None or e["ts"] >= converted_at[e["root"]]:
            continue
        if e["type"] == "pageview":
            seen["pageviews"] += 1
            seen["intent_views"] += bool(INTENT.search(e["path"] or ""))
        else:
            seen["goals"] += 1
    emails = {
        r["root"]: r["email"]
        for r in tx.all(
            f"SELECT {ROOT} AS root, p.email FROM visitors v JOIN people p ON p.num = v.person_num "
            "WHERE p.site_num = ? AND p.email IS NOT NULL",
            (site_num,),
        )
    }
    rows = []
    for root, a in activity.items():
        if a["pageviews"] == 0:
            continue  # nothing seen before converting
        email = emails.get(root)
        row = {k: v for k, v in a.items() if not k.startswith("_")}
        row |= {"returning": "yes" if a["visits"] > 1 else "no", "email_kind": kind_of(email) if email else "none"}
        row["converted"] = int(converted_at[root] < NEVER)
        rows.append(row)
    return rows
