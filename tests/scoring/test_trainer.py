"""The lead-scoring trainer on a synthetic shop with a known conversion rule: it ranks converters
first and its probabilities are calibrated; and its CSV command."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from footfall.scoring.fitting import Trained
from footfall.scoring.trainer import cross_validate, encode, label_of, read_csv, table
from footfall.settings import Settings
from tests.test_cli import run

COUNTRIES = ["US", "GB", "DE", "IN", "BR"]


def shop(n: int, seed: int = 3) -> tuple[list[dict[str, Any]], list[float]]:
    """Visitors whose chance to buy is known: pricing page views and a business email raise it,
    the country does not matter, a returning visitor buys a little more often."""
    rng = random.Random(seed)
    rows, chances = [], []
    for _ in range(n):
        pricing = rng.choice([0, 0, 0, 1, 1, 2, 3, 4])
        business = rng.random() < 0.3
        returning = rng.random() < 0.4
        chance = 1 / (1 + math.exp(-(-4.0 + 1.1 * pricing + 1.2 * business + 0.5 * returning)))
        rows.append(
            {
                "pricing_views": pricing,
                "visits": rng.randint(1, 6),
                "country": rng.choice(COUNTRIES),
                "email_kind": "business" if business else rng.choice(["personal", ""]),
                "returning": "yes" if returning else "no",
                "converted": "1" if rng.random() < chance else "0",
            }
        )
        chances.append(chance)
    return rows, chances


def test_ranks_converters_first_and_is_calibrated() -> None:
    rows, chances = shop(4000)
    t = table(rows, "converted")
    assert t.categorical == ["country", "email_kind", "returning"]
    result = cross_validate(t, folds=3)
    best_possible = roc_auc_score(t.y, chances)  # what knowing the rule gives
    assert result.auc > best_possible - 0.03, (result.auc, best_possible)
    for low, high, mean, observed, n in result.calibration:
        if n >= 150:
            assert abs(mean - observed) < 0.08, (low, high, mean, observed, n)
    # the tenth predicted most likely are the visitors the rule favours, the last tenth are not
    order = np.argsort(result.predicted)
    known = np.array(chances)
    assert known[order[-400:]].mean() > 3 * known.mean() > 9 * known[order[:400]].mean()


def test_signal_importance_agrees_with_scikit_learns() -> None:
    """The batched permutation importance (fitting.Trained.importance) measures what sklearn's
    `permutation_importance` does: the signals of the rule lose AUC when shuffled, the country none."""
    from sklearn.inspection import permutation_importance

    train, _ = shop(1000, seed=4)
    held, _ = shop(400, seed=5)
    trained = Trained(table(train, "converted"))
    y = np.array([int(r["converted"]) for r in held])
    ours = dict(trained.importance(held, y))
    theirs = permutation_importance(
        trained.fitted, encode(held, trained.numeric, trained.categorical), y, scoring="roc_auc", n_repeats=2,
        random_state=0,
    )  # fmt: skip
    names = [*trained.numeric, *trained.categorical]
    for name, mean in zip(names, theirs.importances_mean, strict=True):  # two shuffles each: a noisy measure
        assert abs(ours[name] - mean) < max(0.03, 0.25 * mean), (name, ours[name], mean)
    assert max(ours, key=lambda n: ours[n]) == "pricing_views" and ours["pricing_views"] > 0.1
    assert abs(ours["country"]) < 0.02


def test_labels_and_errors(tmp_path: Path) -> None:
    assert [label_of(v) for v in ("TRUE", "False", "1", "0", "yes", "")] == [1, 0, 1, 0, 1, 0]
    with pytest.raises(ValueError, match="label 'maybe'"):
        label_of("maybe")
    one_sided = table([{"a": 1, "y": "0"}, {"a": 2, "y": "0"}], "y")
    with pytest.raises(ValueError, match="both outcomes"):
        cross_validate(one_sided)
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no column 'y'"):
        read_csv(path, "y")


def test_evaluate_command_on_a_csv(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=str(tmp_path / "data"))  # a CSV: no store is read
    rows, _ = shop(1500, seed=9)
    path = tmp_path / "visitors.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out = run(settings, "score", "evaluate", "--csv", str(path), "--label", "converted", "--folds", "3")
    assert code == 0, out
    assert "1,500 rows" in out and "3-fold" in out
    auc = float(out.split("AUC ")[1].split()[0])
    assert 0.7 < auc <= 1.0
    assert "| 0.0-0.1 |" in out
    code, out = run(settings, "score", "evaluate", "--csv", str(path), "--label", "bought")
    assert code != 0 and "no column 'bought'" in out
