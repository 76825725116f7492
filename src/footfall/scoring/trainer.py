"""The lead-scoring trainer: gradient boosting with class imbalance handled and calibrated
probabilities, on rows of features with a label (docs/scoring.md).

Features are numbers or categories (text). Categories are coded by an ordinal encoder (unknown
and missing values get codes of their own) and given to the trees as categorical; numbers go in
as they are (missing: NaN, which the trees route on their own). The classifier is scikit-learn's
HistGradientBoostingClassifier with balanced class weights (conversions are rare), wrapped in
isotonic calibration fitted on held-out folds (sigmoid below 1,000 rows, where isotonic overfits),
so a score of 0.3 means three in ten such visitors convert.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f", ""}
SEED = 7
MIN_GIVEN = 20  # rows a numeric column needs a value in


@dataclass
class Table:
    """Feature rows: numeric columns as floats (NaN when missing), categorical ones as text."""

    numeric: list[str]
    categorical: list[str]
    x: np.ndarray[Any, Any]  # object array, numeric columns first
    y: np.ndarray[Any, Any]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def label_of(raw: str) -> int:
    value = raw.strip().lower()
    if value in TRUE:
        return 1
    if value in FALSE:
        return 0
    raise ValueError(f"label {raw!r}: expected true/false, yes/no or 1/0")


def _number(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _given(value: Any) -> bool:
    return value not in (None, "") and not (isinstance(value, float) and math.isnan(value))


def table(rows: Sequence[dict[str, Any]], label: str) -> Table:
    """Rows of features (and the label); a column is numeric when every present value is a number
    (and one is)."""
    if not rows:
        raise ValueError("no rows")
    names = [c for c in rows[0] if c != label]
    numbers = [
        c
        for c in names
        if all(r.get(c) in (None, "") or isinstance(r[c], (int, float)) or _number(str(r[c])) is not None for r in rows)
    ]
    # a number given for fewer than MIN_GIVEN rows says nothing the trees can learn, and a
    # calibration fold without any of them cannot be binned: such a column is left out
    numeric = [c for c in numbers if sum(_given(r.get(c)) for r in rows) >= MIN_GIVEN]
    categorical = [c for c in names if c not in numbers]
    x = encode(rows, numeric, categorical)
    y = np.array([label_of(str(r[label])) if not isinstance(r[label], (int, bool)) else int(r[label]) for r in rows])
    return Table(numeric, categorical, x, y)


def encode(rows: Sequence[dict[str, Any]], numeric: list[str], categorical: list[str]) -> np.ndarray[Any, Any]:
    """The feature matrix of `rows` in a model's column order (numbers first; missing: NaN or "")."""
    x = np.empty((len(rows), len(numeric) + len(categorical)), dtype=object)
    for i, r in enumerate(rows):
        for j, c in enumerate(numeric):
            v = r.get(c)
            x[i, j] = float("nan") if v in (None, "") else float(v)
        for j, c in enumerate(categorical, start=len(numeric)):
            v = r.get(c)
            x[i, j] = "" if v is None else str(v)
    return x


def read_csv(path: Path, label: str) -> Table:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and label not in rows[0]:
        raise ValueError(f"{path}: no column {label!r} (columns: {', '.join(rows[0])})")
    return table(rows, label)


def model(t: Table, calibration_folds: int = 3) -> CalibratedClassifierCV:
    n_num = len(t.numeric)
    encode = ColumnTransformer(
        [
            ("numbers", "passthrough", list(range(n_num))),
            (
                "categories",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2, dtype=np.float64
                ),
                list(range(n_num, n_num + len(t.categorical))),
            ),
        ]
    )
    trees = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=300,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        class_weight="balanced",
        categorical_features=[False] * n_num + [True] * len(t.categorical),
        random_state=SEED,
    )
    pipeline = Pipeline([("encode", encode), ("trees", trees)])
    method = "isotonic" if len(t.y) >= 1000 else "sigmoid"
    return CalibratedClassifierCV(pipeline, method=method, cv=calibration_folds)


@dataclass
class Evaluation:
    auc: float
    log_loss: float
    folds: int
    rows: int
    positives: int
    calibration: list[tuple[float, float, float, float, int]]  # (low, high, mean predicted, observed, count)
    predicted: np.ndarray[Any, Any]  # each row's out-of-fold prediction


def cross_validate(t: Table, folds: int = 5) -> Evaluation:
    """Out-of-fold predictions of `folds` stratified folds: AUC, log loss and a reliability table."""
    if len(set(t.y.tolist())) < 2:
        raise ValueError("both outcomes are needed (some converting rows and some not)")
    predicted = np.zeros(len(t.y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(t.x, t.y):
        part = Table(t.numeric, t.categorical, t.x[train], t.y[train])
        fitted = model(part).fit(part.x, part.y)
        predicted[test] = fitted.predict_proba(t.x[test])[:, 1]
    return Evaluation(
        auc=float(roc_auc_score(t.y, predicted)),
        log_loss=float(log_loss(t.y, np.clip(predicted, 1e-6, 1 - 1e-6))),
        folds=folds,
        rows=len(t.y),
        positives=int(t.y.sum()),
        calibration=reliability(predicted, t.y),
        predicted=predicted,
    )


def reliability(predicted: np.ndarray[Any, Any], y: np.ndarray[Any, Any], bins: int = 10) -> list[Any]:
    """Rows of (bin low, bin high, mean predicted, observed rate, count) over equal-width bins."""
    out = []
    edges = np.linspace(0, 1, bins + 1)
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (predicted >= low) & ((predicted < high) | (high == 1.0))
        n = int(inside.sum())
        if n:
            out.append((float(low), float(high), float(predicted[inside].mean()), float(y[inside].mean()), n))
    return out
