"""Fitting a site's model (docs/scoring.md), measured as `footfall score evaluate` measures it.

The visitors first seen in the latest quarter of the site's history are held out; the trainer and
the baseline learn from the earlier ones, knowing only what happened before the hold-out began,
and are compared on the held-out visitors (each cut at a random point before converting,
dataset.py). The better one is fitted again on every visitor and kept with the page values it was
given, and its confidence comes from its held-out AUC and the conversions it was measured on.
Imports scikit-learn, so the server loads it only in the scoring job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

from footfall.scoring.baseline import Baseline
from footfall.scoring.dataset import goal_names, rows, sample
from footfall.scoring.predictions import NEEDED  # converting visitors before any visitor is scored
from footfall.scoring.timelines import Timeline
from footfall.scoring.trainer import SEED, Table, encode, model, table

MODEL_MIN = 30  # converting and non-converting training visitors each, before the trainer is tried
HOLDOUT = 0.25  # the latest visitors, by first visit
IMPORTANCE_REPEATS = 2  # shuffles per feature
IMPORTANCE_BATCH = 200_000  # rows scored per call when measuring importance
CONFIDENCE_HALF = 50  # held-out conversions at which the sample-size factor is one half


class Trained:
    """The gradient-boosted, calibrated classifier with its columns."""

    def __init__(self, t: Table) -> None:
        self.numeric, self.categorical = t.numeric, t.categorical
        self.fitted = model(t).fit(t.x, t.y)

    def probability(self, rows: Sequence[dict[str, Any]]) -> np.ndarray[Any, Any]:
        return np.asarray(self.fitted.predict_proba(encode(rows, self.numeric, self.categorical))[:, 1])

    def importance(self, rows: Sequence[dict[str, Any]], y: np.ndarray[Any, Any]) -> list[tuple[str, float]]:
        """Each feature's permutation importance on `rows`: the AUC lost when its values are shuffled
        (sklearn's `permutation_importance`, 2 repeats), with the shuffled copies of several features
        scored in one call: the calibrated pipeline costs about 0.1 s a call whatever its size, and
        sklearn's one call per feature and repeat made it most of `score evaluate` on a small site."""
        x = encode(rows, self.numeric, self.categorical)
        names = [*self.numeric, *self.categorical]
        base = roc_auc_score(y, self.fitted.predict_proba(x)[:, 1])
        rng = np.random.RandomState(SEED)
        copies = [(f, x[:, f][rng.permutation(len(x))]) for f in range(len(names)) for _ in range(IMPORTANCE_REPEATS)]
        lost = np.zeros(len(names))
        per_call = max(1, IMPORTANCE_BATCH // max(1, len(x)))
        for i in range(0, len(copies), per_call):
            batch = copies[i : i + per_call]
            stacked = np.tile(x, (len(batch), 1))
            for j, (f, shuffled) in enumerate(batch):
                stacked[j * len(x) : (j + 1) * len(x), f] = shuffled
            scores = self.fitted.predict_proba(stacked)[:, 1].reshape(len(batch), len(x))
            for (f, _), p in zip(batch, scores, strict=True):
                lost[f] += (base - roc_auc_score(y, p)) / IMPORTANCE_REPEATS
        return sorted(zip(names, (float(v) for v in lost), strict=True), key=lambda p: -p[1])


Scorer = Trained | Baseline


@dataclass
class Model:
    """What the job pickles: the scorer, the goals its rows count, and the typical row explanations
    compare a visitor with."""

    scorer: Scorer
    goal_names: list[str]
    typical: dict[str, Any]

    def probability(self, rows: Sequence[dict[str, Any]]) -> np.ndarray[Any, Any]:
        return self.scorer.probability(rows)


class NotEnoughData(Exception):
    def __init__(self, converted: int, needed: int = NEEDED) -> None:
        super().__init__(f"not enough data yet: {converted} of the {needed} converting visitors needed")
        self.converted, self.needed = converted, needed


@dataclass
class Fit:
    kind: str  # "model" | "baseline"
    model: Model
    baseline: Baseline
    visitors: int
    positives: int
    holdout_rows: int
    holdout_positives: int
    holdout_auc: float | None
    holdout_log_loss: float | None

    @property
    def confidence(self) -> float:
        """Held-out quality (AUC above chance, 0 to 1) times a sample-size factor n/(n + 50) of the
        conversions it was measured on: a good model measured on few conversions is not trusted."""
        if self.holdout_auc is None:
            return 0.0
        quality = max(0.0, 2 * self.holdout_auc - 1)
        return round(quality * self.holdout_positives / (self.holdout_positives + CONFIDENCE_HALF), 3)


def _fit(kind: str, rows: list[dict[str, Any]], y: np.ndarray[Any, Any]) -> Scorer:
    if kind == "model":
        return Trained(table([r | {"converted": int(c)} for r, c in zip(rows, y, strict=True)], "converted"))
    return Baseline(rows, y.tolist())


def typical(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The typical visitor: each number's median (missing when most are), each category's mode."""
    out: dict[str, Any] = {}
    for name in rows[0]:
        values = [r[name] for r in rows]
        if all(isinstance(v, (int, float)) for v in values):
            numbers = np.asarray(values, dtype=float)
            missing = np.isnan(numbers)
            out[name] = float("nan") if missing.mean() > 0.5 else float(np.median(numbers[~missing]))
        else:
            out[name] = max(set(values), key=values.count)
    return out


def fit(timelines: Sequence[Timeline]) -> Fit:
    """Chooses on the latest visitors, then fits the chosen kind on every visitor."""
    everyone = sample(timelines)
    converted = sum(s.label for s in everyone)
    if converted < NEEDED or converted == len(everyone):
        raise NotEnoughData(converted)
    firsts = sorted(t.first_seen for t in timelines)
    score_from = firsts[int(len(firsts) * (1 - HOLDOUT))]
    earlier = sample([t for t in timelines if t.first_seen < score_from], horizon=score_from)
    later = sample([t for t in timelines if t.first_seen >= score_from])
    names = goal_names(timelines, score_from)
    train_rows, train_y = rows(timelines, earlier, names)
    test_rows, test_y = rows(timelines, later, names)
    if len(set(train_y.tolist())) < 2 or len(set(test_y.tolist())) < 2:
        # the latest visitors have not converted yet (conversions come long after a first visit), or
        # the earlier ones never did: a quarter of the visitors, chosen by id, is held out instead
        held = [s.timeline.root % 4 == 0 for s in everyone]
        names = goal_names(timelines)
        train_rows, train_y = rows(timelines, [s for s, h in zip(everyone, held, strict=True) if not h], names)
        test_rows, test_y = rows(timelines, [s for s, h in zip(everyone, held, strict=True) if h], names)
    best: tuple[str, float | None, float | None] = ("baseline", None, None)
    if len(set(train_y.tolist())) == 2 and len(set(test_y.tolist())) == 2:
        enough = min(int(train_y.sum()), int(len(train_y) - train_y.sum())) >= MODEL_MIN
        scored = []
        for kind in ["model", "baseline"] if enough else ["baseline"]:
            p = _fit(kind, train_rows, train_y).probability(test_rows)
            loss = float(log_loss(test_y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))
            scored.append((float(roc_auc_score(test_y, p)), kind == "model", kind, loss))
        auc, _, kind, loss = max(scored)  # ties go to the trained model
        best = (kind, auc, loss)
    if best[1] is None:  # nothing to measure a model on yet: no score is better than an unmeasured one
        raise NotEnoughData(converted)
    names = goal_names(timelines)
    all_rows, y = rows(timelines, everyone, names)
    baseline = Baseline(all_rows, y.tolist())
    scorer = baseline if best[0] == "baseline" else _fit("model", all_rows, y)
    return Fit(
        best[0], Model(scorer, names, typical(all_rows)), baseline, len(y), int(y.sum()),
        len(test_y), int(test_y.sum()), best[1], best[2],
    )  # fmt: skip
