"""Predictions as the APIs show them, read from what the scoring job stored (docs/scoring.md).

No model runs here: a read is a few indexed lookups.
"""

from __future__ import annotations

from typing import Any

from footfall.scoring.timelines import conversions
from footfall.store.base import Row, Tx, loads

NEEDED = 40  # converting visitors before any visitor is scored (scoring/fitting.py)


def matches(table: dict[str, dict[str, list[float]]], dims: dict[str, str]) -> list[dict[str, Any]]:
    """A visitor's values along each dimension with the site's conversion rate for them."""
    out = []
    for name, value in dims.items():
        seen = table.get(name, {}).get(value)
        if seen is not None:
            n, k, rate = seen
            out.append(
                {"dimension": name, "value": value, "visitors": int(n), "conversions": int(k), "conversionRate": rate}
            )
    return out


def site_model(tx: Tx, site_num: int) -> Row | None:
    return tx.one(
        "SELECT kind, site_rate, average_value, confidence, dimensions FROM score_models WHERE site_num = ?",
        (site_num,),
    )


def site_scoring(tx: Tx, site_num: int, conversion_goals: list[str]) -> dict[str, Any]:
    """Where the site's lead scoring stands: `scoring` (with the model's measured quality),
    `learning` (not enough conversions yet: how many there are and how many are needed) or
    `waiting` (enough, and the job has not trained yet)."""
    model = tx.one(
        "SELECT kind, trained_at, visitors, positives, holdout_rows, holdout_auc, confidence FROM score_models "
        "WHERE site_num = ?",
        (site_num,),
    )
    if model is not None:
        return {
            "status": "scoring",
            "model": "gradientBoosting" if model["kind"] == "model" else "baseline",
            "trainedAt": model["trained_at"],
            "visitors": model["visitors"],
            "conversions": model["positives"],
            "heldOutVisitors": model["holdout_rows"],
            "heldOutAuc": model["holdout_auc"],
            "confidence": model["confidence"],
        }
    converted = len(conversions(tx, site_num, conversion_goals))
    return {
        "status": "learning" if converted < NEEDED else "waiting",
        "conversions": converted,
        "needed": NEEDED,
        "message": (
            f"Not enough data yet: {converted} of the {NEEDED} converting visitors lead scores are learned from."
            if converted < NEEDED
            else "Enough conversions: scores appear after the scoring job's next run, once it has measured a model."
        ),
    }


def prediction(model_row: Row, probability: float, signals: str | None = None) -> dict[str, Any]:
    """DataFast's `prediction`: score 0-100 (50: as likely as the site's average visitor),
    conversionRate, expectedValue in USD (null without payments) and confidence 0-1; and footfall's
    `signals`: what raises this visitor's chance most (scoring/explain.py)."""
    rate = model_row["site_rate"]
    value = model_row["average_value"]
    return {
        "score": round(100 * probability / (probability + rate)) if probability + rate > 0 else 0,
        "conversionRate": round(probability, 4),
        "expectedValue": None if value is None else round(probability * value, 2),
        "confidence": model_row["confidence"],
        "signals": loads(signals) if signals else [],
    }


def likelihood(model_row: Row, score: Row) -> dict[str, Any]:
    """The realtime map's `conversionLikelihood`."""
    p = prediction(model_row, score["probability"], score["signals"])
    return {
        "score": p["score"],
        "confidence": p["confidence"],
        "isBaseline": model_row["kind"] == "baseline",
        "dimensionMatches": matches(loads(model_row["dimensions"]), loads(score["dimensions"])),
        "raw": {
            "conversionRate": p["conversionRate"],
            "averageValue": model_row["average_value"],
            "expectedValue": p["expectedValue"],
        },
        "signals": p["signals"],
    }


def visitor_score(tx: Tx, root: int) -> Row | None:
    """A visitor's stored score; none for a customer, also one who paid since it was scored."""
    score = tx.one("SELECT probability, dimensions, signals FROM visitor_scores WHERE visitor_num = ?", (root,))
    if score is None or score["probability"] is None:
        return None
    paid = tx.one(  # on its browsers, or by its person (a payment matched by email)
        "SELECT 1 AS x FROM payments WHERE refunded = 0 AND (visitor_num IN "
        "(SELECT num FROM visitors WHERE num = ? OR alias_of = ?) OR person_num = "
        "(SELECT person_num FROM visitors WHERE num = ?)) LIMIT 1",
        (root, root, root),
    )
    return None if paid else score


def visitor_prediction(tx: Tx, site_num: int, root: int) -> dict[str, Any] | None:
    model_row = site_model(tx, site_num)
    score = visitor_score(tx, root) if model_row else None
    return prediction(model_row, score["probability"], score["signals"]) if model_row and score else None


# A person's best score among their visitors' (a `{person}` reference in SQL): null when any of their
# visitors converted or they have a payment (a customer). The people list sorts by it too.
PERSON_SCORE = (
    "(SELECT CASE WHEN COUNT(*) = COUNT(s.probability) THEN MAX(s.probability) END "
    "FROM visitor_scores s JOIN visitors v ON v.num = s.visitor_num WHERE v.person_num = {person} "
    "AND NOT EXISTS (SELECT 1 FROM payments y WHERE y.person_num = {person} AND y.refunded = 0))"
)


def person_prediction(tx: Tx, site_num: int, person_num: int) -> dict[str, Any] | None:
    """The best score among the person's visitors; null for a customer (paid, or converted)."""
    model_row = site_model(tx, site_num)
    if model_row is None:
        return None
    best = tx.one(f"SELECT {PERSON_SCORE.format(person='?')} AS p", (person_num, person_num))
    if not best or best["p"] is None:
        return None
    why = tx.one(  # the signals of the visitor with the best score
        "SELECT s.signals FROM visitor_scores s JOIN visitors v ON v.num = s.visitor_num WHERE v.person_num = ? "
        "ORDER BY s.probability DESC LIMIT 1",
        (person_num,),
    )
    return prediction(model_row, best["p"], why["signals"] if why else None)
