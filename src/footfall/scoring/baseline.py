"""The cold-start score: a site's own conversion rates by dimension (docs/scoring.md).

Each visitor is looked at along a few dimensions (first channel, campaign, device, country, new or
returning, email kind, whether it viewed pages of intent, how many pages). For each value the
site's conversion rate is smoothed towards the site's overall rate (an m-estimate: ten visitors'
worth of the overall rate), so a country seen twice cannot claim 50%. A visitor's evidence is its
values' log-odds lifts over the overall rate; a logistic regression fitted on the site's visitors
weighs them (dimensions that say the same thing are not counted twice) into a conversion rate.
Every number is shown as `dimensionMatches`, so an owner can see why a visitor scores what it does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

SMOOTHING = 10.0  # visitors' worth of the overall rate added to each value


def _pages(f: dict[str, Any]) -> str:
    n = int(f.get("pageviews") or 0)
    return "1" if n <= 1 else "2-3" if n <= 3 else "4+"


DIMENSIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "channel": lambda f: f.get("first_channel") or "Direct",
    "campaign": lambda f: f.get("campaign") or "no",
    "device": lambda f: f.get("device") or "unknown",
    "country": lambda f: f.get("country") or "unknown",
    "returning": lambda f: f.get("returning") or "no",
    "emailKind": lambda f: f.get("email_kind") or "none",
    "intentPages": lambda f: "yes" if (f.get("intent_views") or 0) > 0 else "no",
    "pages": _pages,
}


def dimensions_of(features: dict[str, Any]) -> dict[str, str]:
    return {name: value(features) for name, value in DIMENSIONS.items()}


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


class Baseline:
    """Conversion rates by dimension, and the curve from their summed lifts to a rate."""

    def __init__(self, rows: Sequence[dict[str, Any]], converted: Sequence[int]) -> None:
        if not rows or len(set(converted)) < 2:
            raise ValueError("the baseline needs converting and non-converting visitors")
        self.rate = sum(converted) / len(converted)
        counts: dict[str, dict[str, list[int]]] = {name: {} for name in DIMENSIONS}
        for features, y in zip(rows, converted, strict=True):
            for name, value in dimensions_of(features).items():
                seen = counts[name].setdefault(value, [0, 0])
                seen[0] += 1
                seen[1] += y
        self.stats = {
            name: {value: (n, k, (k + SMOOTHING * self.rate) / (n + SMOOTHING)) for value, (n, k) in values.items()}
            for name, values in counts.items()
        }
        from sklearn.linear_model import LogisticRegression  # scikit-learn only where a model is fitted

        self.curve = LogisticRegression(C=1.0).fit(self._evidence(rows), np.asarray(converted))

    def _evidence(self, rows: Sequence[dict[str, Any]]) -> np.ndarray[Any, Any]:
        """Each dimension's lift (log-odds over the site's rate) for each row, one column each."""
        base = _logit(self.rate)
        out = np.zeros((len(rows), len(DIMENSIONS)))
        for i, features in enumerate(rows):
            for j, (name, value) in enumerate(dimensions_of(features).items()):
                if value in self.stats[name]:
                    out[i, j] = _logit(self.stats[name][value][2]) - base
        return out

    def probability(self, rows: Sequence[dict[str, Any]]) -> np.ndarray[Any, Any]:
        return np.asarray(self.curve.predict_proba(self._evidence(rows))[:, 1])

    def table(self) -> dict[str, dict[str, list[float]]]:
        """{dimension: {value: [visitors, conversions, smoothed rate]}}: stored with the model."""
        return {
            name: {v: [n, k, round(r, 6)] for v, (n, k, r) in values.items()} for name, values in self.stats.items()
        }
