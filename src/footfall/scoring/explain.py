"""Why a visitor scores what it scores (docs/scoring.md): the signals that raise its chance most.

A signal is a group of features that say one thing (the value of the pages it viewed, its goals,
how much it engaged...). A signal's effect is how much the visitor's conversion rate falls when
that group's features are set to the typical visitor's (their median or most frequent value)
with everything else kept: what this visitor has that a typical one has not. The job stores the
top three positive ones with the visitor's own values; the APIs and pages show them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from footfall.scoring.fitting import Model

SIGNALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pageValue": ("Viewed pages that lead to conversions", ("page_value_max", "page_value_mean", "page_value_last")),
    "goals": ("Completed goals", ("goals", "goal_pages", "visit_goals", "hours_since_goal", "goal_value_max")),
    "intentPages": ("Viewed pricing, signup or checkout pages", ("intent_views",)),
    "engagement": (
        "Engaged: pages and time",
        ("pageviews", "distinct_pages", "repeat_views", "duration_s", "visit_pageviews", "visit_minutes"),
    ),  # fmt: skip
    "returning": ("Came back", ("visits", "days_active", "span_days", "hours_since_previous_visit", "returning")),
    "source": ("Where it came from", ("first_channel", "campaign")),
    "deviceAndPlace": ("Device and place", ("device", "country")),
    "identified": ("Identified", ("identified", "email_kind")),
}
TOP = 3
MIN_EFFECT = 0.001  # a tenth of a point of conversion rate


def _members(name: str, row: dict[str, Any]) -> tuple[str, ...]:
    features = SIGNALS[name][1]
    if name == "goals":
        features = (*features, *(f for f in row if f.startswith("goal:")))
    return tuple(f for f in features if f in row)


def _shown(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def explain(
    model: Model, rows: Sequence[dict[str, Any]], probabilities: np.ndarray[Any, Any]
) -> list[list[dict[str, Any]]]:
    """For each row, its top signals: [{signal, label, effect (conversion rate it adds), values}]."""
    if not rows:
        return []
    names = [n for n in SIGNALS if _members(n, rows[0])]
    changed = [
        r | {f: model.typical.get(f) for f in _members(n, r)} for r in rows for n in names
    ]  # row-major: each row's variants together
    without = model.probability(changed).reshape(len(rows), len(names))
    out = []
    for i, r in enumerate(rows):
        effects = sorted(((float(probabilities[i] - without[i, j]), n) for j, n in enumerate(names)), reverse=True)
        out.append(
            [
                {
                    "signal": n,
                    "label": SIGNALS[n][0],
                    "effect": round(effect, 4),
                    "values": {f: _shown(r[f]) for f in _members(n, r)},
                }
                for effect, n in effects[:TOP]
                if effect >= MIN_EFFECT
            ]
        )
    return out
