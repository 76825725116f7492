"""Lead-scoring features: one visitor's row, the same function for training, evaluation and live
scoring (docs/scoring.md).

`row(timeline, cut, values)` describes a visitor as it was just before `cut` (live scoring: now),
never counting its conversion or anything after it. Time-based features are measured from its last
event before the cut, not from the cut itself, so a row does not depend on when the job happens to
run: a visitor scored five minutes or five days after its last visit gets the same row.

`Ledger` is what the site's own history says besides the model: each page's value and each goal's
(Google Analytics' "page value", in conversions: the share of the visitors who viewed the page,
before converting, that went on to convert; smoothed towards the site's rate so a page seen twice
cannot claim 50%), as it stood at the cut. The site's most frequent goals (`goal_names`, fixed
when a model is trained) are counted one column each.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from footfall.scoring.ledger import Ledger
from footfall.scoring.timelines import GOAL, PAGE, Timeline

INTENT = re.compile(r"/(pricing|plans|demo|signup|sign-up|register|trial|checkout|cart|buy|contact|quote)(/|$)", re.I)
NEVER = 2**62
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
GOAL_COLUMNS = 8  # the site's most frequent goals, one count column each


def _hours(ms: float) -> float:
    return round(ms / HOUR_MS, 3)


def row(t: Timeline, cut: int, values: Ledger, goal_names: list[str]) -> dict[str, Any] | None:
    """The visitor's features just before `cut`, or None when it had viewed no page by then."""
    events = t.before(cut)
    if not any(e[1] == PAGE for e in events):
        return None
    last = events[-1][0]
    visits = [v for v in t.visits if v.started_at <= last]
    current = visits[-1] if visits else None
    previous_end = max((min(v.last_seen, last) for v in visits[:-1]), default=None)
    pages = [e[2] for e in events if e[1] == PAGE]
    goals = [e for e in events if e[1] == GOAL]
    in_visit = [e for e in events if current is not None and e[0] >= current.started_at]
    page_values = [values.page_value(p) for p in pages]
    goal_counts = Counter(e[3] for e in goals)
    page_counts = Counter(pages)
    earlier_pages = {e[2] for e in events if e[1] == PAGE and current is not None and e[0] < current.started_at}
    first = t.visits[0] if t.visits else None
    out: dict[str, Any] = {
        "visits": len(visits),
        "pageviews": len(pages),
        "distinct_pages": len(set(pages)),
        "repeat_views": len(pages) - len(set(pages)),
        "intent_views": sum(bool(INTENT.search(p)) for p in pages),
        "goals": len(goals),
        "goal_pages": len({e[2] for e in goals}),
        "duration_s": sum(min(v.last_seen, last) - v.started_at for v in visits) / 1000,
        "days_active": len({e[0] // DAY_MS for e in events}),
        "span_days": round((last - events[0][0]) / DAY_MS, 3),
        "hours_since_previous_visit": (
            math.nan if previous_end is None or current is None else _hours(current.started_at - previous_end)
        ),
        "visit_pageviews": sum(e[1] == PAGE for e in in_visit),
        "visit_goals": sum(e[1] == GOAL for e in in_visit),
        "visit_minutes": 0.0 if current is None else round((last - current.started_at) / 60_000, 2),
        "seconds_since_previous_event": (last - events[-2][0]) / 1000 if len(events) > 1 else math.nan,
        "most_views_of_a_page": max(page_counts.values()),
        "pages_seen_again_this_visit": len({e[2] for e in in_visit if e[1] == PAGE} & earlier_pages),
        "last_page_seen_before": int(pages[-1] in earlier_pages),
        "hours_since_goal": _hours(last - goals[-1][0]) if goals else math.nan,
        "page_value_max": max(page_values),
        "page_value_mean": sum(page_values) / len(page_values),
        "page_value_last": page_values[-1],
        "goal_value_max": max((values.goal_value(e[3]) for e in goals), default=math.nan),
        "goal_page_value_max": max((values.page_value(e[2]) for e in goals), default=math.nan),
        "page_reach_last": values.reach(pages[-1]),
        "page_reach_mean": sum(values.reach(p) for p in pages) / len(pages),
        "page_goal_rate_max": max(values.goal_rate(p) for p in pages),
        "page_goal_rate_last": values.goal_rate(pages[-1]),
        **{f"goal:{name}": goal_counts[name] for name in goal_names},
        "first_channel": first.channel if first else "",
        "campaign": "yes" if first and first.campaign else "no",
        "device": first.device if first else "",
        "country": first.country if first else "",
        "returning": "yes" if len(visits) > 1 else "no",
        "email_kind": t.email_kind,
        "identified": "yes" if t.identified else "no",
    }
    return out


# Names shown to people for the features (explanations, docs/scoring.md).
LABELS = {
    "visits": "visits",
    "pageviews": "page views",
    "distinct_pages": "different pages viewed",
    "repeat_views": "pages viewed again",
    "intent_views": "views of pricing, signup or checkout pages",
    "goals": "goals completed",
    "goal_pages": "pages with a goal",
    "duration_s": "time on site",
    "days_active": "days with a visit",
    "span_days": "days since the first visit",
    "hours_since_previous_visit": "time since the previous visit",
    "visit_pageviews": "page views this visit",
    "visit_goals": "goals this visit",
    "visit_minutes": "length of this visit",
    "hours_since_goal": "time since the last goal",
    "page_value_max": "value of the best page viewed",
    "page_value_mean": "average value of the pages viewed",
    "page_value_last": "value of the last page viewed",
    "goal_value_max": "value of the goals completed",
    "first_channel": "first channel",
    "campaign": "came from a campaign",
    "device": "device",
    "country": "country",
    "returning": "returning",
    "email_kind": "email",
    "identified": "identified",
}


def label_of(feature: str) -> str:
    if feature.startswith("goal:"):
        return f"goal {feature[5:]}"
    return LABELS.get(feature, feature)
