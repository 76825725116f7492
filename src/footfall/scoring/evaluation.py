"""`footfall score evaluate --site S`: the live model measured the way it is used (docs/scoring.md).

Temporal hold-out: the model is trained on the visitors first seen before `train_before`, knowing
only what happened before `score_from` (their labels: converted by then), exactly as the scoring
job would have trained on that day; it then scores the visitors first seen from `score_from` on,
each cut at a random point before its first conversion (dataset.py), and the label is whether it
converted later. In the same run, on the same rows, two baselines: logistic regression (the
features, counts log-scaled, categories one-hot), and a rule (the most recent goal first, then the
visitors with no goal). Each baseline's AUC difference to the model comes with a paired bootstrap
95% interval over the held-out visitors. Imports scikit-learn: loaded only by the CLI and the job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from footfall.scoring.dataset import goal_names, rows, sample
from footfall.scoring.fitting import HOLDOUT, Trained
from footfall.scoring.timelines import Timeline
from footfall.scoring.trainer import SEED, encode, table

BOOTSTRAP = 200
BINS = 10
IMPORTANCE_ROWS = 50_000  # held-out rows the signals' importance is measured on


@dataclass
class Measured:
    name: str
    auc: float
    interval: tuple[float, float]  # its AUC's bootstrap 95% interval
    log_loss: float | None
    brier: float | None
    difference: tuple[float, float, float] | None = None  # footfall's AUC minus this one's: (value, low, high)


@dataclass
class Report:
    train_visitors: int
    train_positives: int
    test_visitors: int
    test_positives: int
    results: list[Measured] = field(default_factory=list)
    calibration: list[tuple[float, float, float, int]] = field(default_factory=list)  # from, mean, observed, n
    top_signals: list[tuple[str, float]] = field(default_factory=list)


def latest_quarter(timelines: Sequence[Timeline]) -> int:
    """When the latest quarter of the visitors (by first visit) begins: the job's hold-out."""
    firsts = sorted(t.first_seen for t in timelines)
    if not firsts:
        raise ValueError("no visitor has viewed a page yet")
    return firsts[int(len(firsts) * (1 - HOLDOUT))]


def split(timelines: Sequence[Timeline], train_before: int, score_from: int) -> tuple[list[Timeline], list[Timeline]]:
    return (
        [t for t in timelines if t.first_seen < train_before],
        [t for t in timelines if t.first_seen >= score_from],
    )


def logistic(rows: Sequence[dict[str, Any]], y: np.ndarray[Any, Any]) -> Any:
    """Logistic regression on the same rows: numbers log-scaled (missing: 0 and an indicator),
    standardised; categories one-hot (rare ones together). Class weights balanced, as the model's."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    t = table([r | {"converted": int(c)} for r, c in zip(rows, y, strict=True)], "converted")
    n = len(t.numeric)
    signed_log = FunctionTransformer(lambda x: np.sign(x) * np.log1p(np.abs(x.astype(float))))
    numbers = make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0, add_indicator=True), signed_log,
                            StandardScaler())  # fmt: skip
    categories = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20)
    prepare = ColumnTransformer(
        [("numbers", numbers, list(range(n))), ("categories", categories, list(range(n, n + len(t.categorical))))]
    )
    model = LogisticRegression(max_iter=2000, class_weight="balanced")
    return t, Pipeline([("prepare", prepare), ("model", model)]).fit(t.x, t.y)


def rule(rows: Sequence[dict[str, Any]]) -> np.ndarray[Any, Any]:
    """The most recent goal first: 1 / (1 + hours since it), 0 with no goal."""
    out = np.zeros(len(rows))
    for i, r in enumerate(rows):
        hours = r.get("hours_since_goal")
        if hours is not None and not math.isnan(hours):
            out[i] = 1 / (1 + hours)
    return out


def bootstrap(y: np.ndarray[Any, Any], scores: list[np.ndarray[Any, Any]]) -> list[np.ndarray[Any, Any]]:
    """Each score's AUC on `BOOTSTRAP` resamples of the held-out visitors (the same resamples for
    all, so differences are paired)."""
    rng = np.random.default_rng(SEED)
    out: list[list[float]] = [[] for _ in scores]
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        for found, p in zip(out, scores, strict=True):
            found.append(float(roc_auc_score(y[i], p[i])))
    return [np.asarray(found) for found in out]


def _interval(values: np.ndarray[Any, Any]) -> tuple[float, float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def calibration(
    y: np.ndarray[Any, Any], p: np.ndarray[Any, Any], bins: int = BINS
) -> list[tuple[float, float, float, int]]:
    """Equal-count bins of the predictions (conversions are rare: equal-width bins would put almost
    everyone in the first): (lowest predicted, mean predicted, observed rate, visitors)."""
    order = np.argsort(p, kind="stable")
    return [
        (float(p[part].min()), float(p[part].mean()), float(y[part].mean()), len(part))
        for part in np.array_split(order, bins)
        if len(part)
    ]


def evaluate(timelines: Sequence[Timeline], train_before: int, score_from: int) -> Report:
    """The model, logistic regression and the rule on the same held-out rows."""
    train_side, test_side = split(timelines, train_before, score_from)
    names = goal_names(timelines, score_from)
    train_rows, y = rows(timelines, sample(train_side, horizon=score_from), names)
    test_rows, test_y = rows(timelines, sample(test_side), names)
    if len(set(y.tolist())) < 2 or len(set(test_y.tolist())) < 2:
        raise ValueError(
            f"both outcomes are needed on each side: {int(y.sum())} of {len(y)} training visitors and "
            f"{int(test_y.sum())} of {len(test_y)} held-out visitors converted"
        )
    report = Report(len(y), int(y.sum()), len(test_y), int(test_y.sum()))
    model = Trained(table([r | {"converted": int(c)} for r, c in zip(train_rows, y, strict=True)], "converted"))
    t, lr = logistic(train_rows, y)
    scores = {
        "footfall (gradient boosting)": model.probability(test_rows),
        "logistic regression": np.asarray(lr.predict_proba(encode(test_rows, t.numeric, t.categorical))[:, 1]),
        "rule: latest goal": rule(test_rows),
    }
    resampled = bootstrap(test_y, list(scores.values()))
    for n, (name, p) in enumerate(scores.items()):
        probability = name != "rule: latest goal"  # the rule ranks, it gives no rate
        clipped = np.clip(p, 1e-6, 1 - 1e-6)
        diff = resampled[0] - resampled[n]
        report.results.append(
            Measured(
                name,
                float(roc_auc_score(test_y, p)),
                _interval(resampled[n]),
                float(log_loss(test_y, clipped, labels=[0, 1])) if probability else None,
                float(brier_score_loss(test_y, p)) if probability else None,
                None
                if n == 0
                else (
                    float(roc_auc_score(test_y, scores[next(iter(scores))]) - roc_auc_score(test_y, p)),
                    *_interval(diff),
                ),  # fmt: skip
            )
        )
    ours = next(iter(scores.values()))
    report.calibration = calibration(test_y, ours)
    some = np.random.default_rng(SEED).permutation(len(test_y))[:IMPORTANCE_ROWS]
    report.top_signals = model.importance([test_rows[i] for i in some], test_y[some])
    return report
