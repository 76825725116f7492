"""Fitting a site's model (docs/scoring.md): a quarter of the visitors held out (stratified), the
trainer and the baseline compared on it when there are enough conversions, the winner fitted on
every visitor, and its confidence from the held-out AUC and the conversions it was measured on.
Imports scikit-learn, so the server loads it only in the scoring job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from footfall.scoring.baseline import Baseline
from footfall.scoring.trainer import SEED, Table, encode, model, table

MODEL_MIN = 30  # converting and non-converting visitors each, before the trainer is tried
HOLDOUT = 0.25
HOLDOUT_MIN = 4  # converting visitors needed to hold any out
CONFIDENCE_HALF = 50  # held-out conversions at which the sample-size factor is one half


class Trained:
    """The gradient-boosted, calibrated classifier with its columns."""

    def __init__(self, t: Table) -> None:
        self.numeric, self.categorical = t.numeric, t.categorical
        self.fitted = model(t).fit(t.x, t.y)

    def probability(self, rows: Sequence[dict[str, Any]]) -> np.ndarray[Any, Any]:
        return np.asarray(self.fitted.predict_proba(encode(rows, self.numeric, self.categorical))[:, 1])


Scorer = Trained | Baseline  # what the job pickles and scores with


@dataclass
class Fit:
    kind: str  # "model" | "baseline"
    scorer: Scorer
    baseline: Baseline
    visitors: int
    positives: int
    holdout_rows: int
    holdout_auc: float | None
    holdout_log_loss: float | None

    @property
    def confidence(self) -> float:
        """Held-out quality (AUC above chance, 0 to 1) times a sample-size factor n/(n + 50) of the
        conversions it was measured on: a good model measured on few conversions is not trusted."""
        if self.holdout_auc is None:
            return 0.0
        quality = max(0.0, 2 * self.holdout_auc - 1)
        held = round(self.positives * HOLDOUT)
        return round(quality * held / (held + CONFIDENCE_HALF), 3)


def _fit(kind: str, rows: list[dict[str, Any]], y: np.ndarray[Any, Any]) -> Scorer:
    if kind == "model":
        return Trained(table([r | {"converted": int(c)} for r, c in zip(rows, y, strict=True)], "converted"))
    return Baseline(rows, y.tolist())


def fit(rows: list[dict[str, Any]], y: np.ndarray[Any, Any]) -> Fit:
    """Chooses, measures on held-out visitors and fits on them all (see the module's steps)."""
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    kinds = ["model", "baseline"] if min(positives, negatives) >= MODEL_MIN else ["baseline"]
    best: tuple[str, float | None, float | None] = ("baseline", None, None)
    held = 0
    if min(positives, negatives) >= HOLDOUT_MIN:
        train, test = train_test_split(np.arange(len(y)), test_size=HOLDOUT, stratify=y, random_state=SEED)
        held = len(test)
        scored = []
        for kind in kinds:
            candidate = _fit(kind, [rows[i] for i in train], y[train])
            p = candidate.probability([rows[i] for i in test])
            auc = float(roc_auc_score(y[test], p))
            scored.append((auc, kind == "model", kind, float(log_loss(y[test], np.clip(p, 1e-6, 1 - 1e-6)))))
        auc, _, kind, loss = max(scored)  # ties go to the trained model
        best = (kind, auc, loss)
    baseline = Baseline(rows, y.tolist())
    scorer = baseline if best[0] == "baseline" else _fit("model", rows, y)
    return Fit(best[0], scorer, baseline, len(y), positives, held, best[1], best[2])
