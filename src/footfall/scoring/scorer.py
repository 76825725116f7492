"""The lead-scoring job and the predictions it leaves for the APIs (docs/scoring.md).

Per site, every `FOOTFALL_SCORING_INTERVAL_SECONDS`:

1. No conversions yet: nothing to learn from, every prediction is null (the model is dropped).
2. Trained again when there is no model, the conversion goals changed, or the outcomes recorded
   since the last training reach a tenth of those it learned from (at least one). A quarter of the
   visitors (stratified) is held out; with 30+ converting and 30+ other visitors the gradient-boosted
   trainer and the baseline are both fitted on the rest, and the one with the better held-out AUC is
   kept; with fewer, the baseline. It is then fitted again on every visitor and stored with its
   held-out quality.
3. Scored: after a training, every visitor; otherwise the visitors active since the last run.
   Visitors who converted are kept as customers, with no score.

Nothing of this runs on the collect path: the server runs the job in a process of its own
(`scoring_loop`), and the APIs read the stored scores (predictions.py).
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from footfall.clock import Clock, SystemClock
from footfall.jobs import leased
from footfall.scoring import ledger, timelines
from footfall.scoring.baseline import dimensions_of
from footfall.scoring.features import NEVER, row
from footfall.scoring.ledger import Ledger
from footfall.settings import Settings
from footfall.store import open_store
from footfall.store.base import Row, Store, Tx, dumps, loads

if TYPE_CHECKING:
    from footfall.scoring.fitting import Model

log = logging.getLogger("footfall.scoring")

MARGIN_MS = 5 * 60_000  # re-read a little before the last run (events committed late)
WRITE_CHUNK = 2000


def _usd(amount: float, currency: str, rates: dict[str, float]) -> float | None:
    code = currency.upper()
    return amount if code == "USD" else amount * rates[code] if code in rates else None


def average_value(tx: Tx, site_num: int, rates: dict[str, float]) -> float | None:
    """US dollars per conversion: the mean first (not renewal) payment, not refunded, in USD or a
    currency with a configured rate. Null when there is none: a goal-only site has no value."""
    values = [
        v
        for p in tx.all(
            "SELECT amount, currency FROM payments WHERE site_num = ? AND refunded = 0 AND renewal = 0", (site_num,)
        )
        if (v := _usd(p["amount"], p["currency"], rates)) is not None
    ]
    return round(sum(values) / len(values), 2) if values else None


class Scoring:
    """The job (run by the app every interval, or `footfall score train`)."""

    def __init__(self, store: Store, clock: Clock, usd_rates: dict[str, float] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.rates = usd_rates or {}
        self._loaded: dict[int, tuple[int, Model]] = {}  # site -> (trained_at, scorer)

    def run(self) -> None:
        for site in self.store.read(lambda tx: tx.all("SELECT num, settings FROM sites ORDER BY num")):
            goals = list(loads(site["settings"]).get("conversion_goals", []))
            try:
                self.site(site["num"], goals)
            except Exception:  # one site's failure must not stop the others
                log.exception("scoring site %s failed", site["num"])

    def site(self, site_num: int, goals: list[str], retrain: bool = False) -> str:
        """Trains if due (or `retrain`) and scores; answers what it did, for the CLI and the logs."""
        now = self.clock.now_ms()

        def look(tx: Tx) -> tuple[Row | None, int]:
            state = tx.one(
                "SELECT kind, trained_at, conversions, goals, scored_upto FROM score_models WHERE site_num = ?",
                (site_num,),
            )
            return state, timelines.conversion_count(tx, site_num, goals)

        state, count = self.store.read(look)
        if count == 0:
            if state is not None:
                self.store.write(lambda tx: self._drop(tx, site_num))
            return "no conversions: predictions are null"
        due = (
            retrain
            or state is None
            or loads(state["goals"]) != goals
            or count - state["conversions"] >= max(1, math.ceil(0.1 * state["conversions"]))
        )
        if due:
            return self._train(site_num, goals, count, now)
        assert state is not None
        return self._score_recent(site_num, goals, state, now)

    def _drop(self, tx: Tx, site_num: int) -> None:
        tx.execute("DELETE FROM visitor_scores WHERE site_num = ?", (site_num,))
        tx.execute("DELETE FROM score_models WHERE site_num = ?", (site_num,))
        self._loaded.pop(site_num, None)

    def _train(self, site_num: int, goals: list[str], count: int, now: int) -> str:
        from footfall.scoring.fitting import NotEnoughData, fit  # scikit-learn, only where a model is fitted

        def read(tx: Tx) -> tuple[list[timelines.Timeline], float | None]:
            return timelines.read(tx, site_num, goals), average_value(tx, site_num, self.rates)

        seen, value = self.store.read(read)
        try:
            result = fit(seen)
        except NotEnoughData as short:
            self.store.write(lambda tx: self._drop(tx, site_num))
            return f"{short}: predictions are null until then"
        model_row = (
            site_num,
            result.kind,
            now,
            count,
            dumps(goals),
            result.visitors,
            result.positives,
            result.positives / result.visitors,
            value,
            result.holdout_rows,
            result.holdout_auc,
            result.holdout_log_loss,
            result.confidence,
            dumps(result.baseline.table()),
            pickle.dumps(result.model),
            now,
        )

        def save(tx: Tx) -> None:
            tx.execute("DELETE FROM score_models WHERE site_num = ?", (site_num,))
            tx.execute(
                "INSERT INTO score_models (site_num, kind, trained_at, conversions, goals, visitors, positives, "
                "site_rate, average_value, holdout_rows, holdout_auc, holdout_log_loss, confidence, dimensions, "
                "model, scored_upto) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                model_row,
            )

        self.store.write(save)
        self._loaded[site_num] = (now, result.model)
        values = self.store.read(lambda tx: ledger.now(tx, site_num, goals))
        self._save_scores(site_num, seen, result.model, values, now)
        self.store.write(
            lambda tx: tx.execute("DELETE FROM visitor_scores WHERE site_num = ? AND scored_at < ?", (site_num, now))
        )
        auc = "n/a" if result.holdout_auc is None else f"{result.holdout_auc:.3f}"
        return (
            f"trained {result.kind} on {result.visitors:,} visitors ({result.positives:,} converted): "
            f"held-out AUC {auc} on the latest {result.holdout_rows:,} ({result.holdout_positives:,} converted), "
            f"confidence {result.confidence:.2f}"
        )

    def _score_recent(self, site_num: int, goals: list[str], state: Row, now: int) -> str:
        since = state["scored_upto"] - MARGIN_MS

        def read(tx: Tx) -> tuple[list[timelines.Timeline], Model, Ledger]:
            roots = timelines.active_roots(tx, site_num, since)
            found = timelines.read(tx, site_num, goals, roots)
            return (
                found,
                self._model(tx, site_num, state["trained_at"]),
                ledger.now(tx, site_num, goals) if found else Ledger(),
            )

        seen, model, values = self.store.read(read)
        self._save_scores(site_num, seen, model, values, now)
        self.store.write(
            lambda tx: tx.execute("UPDATE score_models SET scored_upto = ? WHERE site_num = ?", (now, site_num))
        )
        return f"scored {len(seen):,} visitors active since the last run"

    def _model(self, tx: Tx, site_num: int, trained_at: int) -> Model:
        loaded = self._loaded.get(site_num)
        if loaded is None or loaded[0] != trained_at:
            row = tx.one("SELECT model FROM score_models WHERE site_num = ?", (site_num,))
            assert row is not None
            loaded = (trained_at, pickle.loads(bytes(row["model"])))  # our own pickle, from our own table
            self._loaded[site_num] = loaded
        return loaded[1]

    def _save_scores(
        self, site_num: int, seen: list[timelines.Timeline], model: Model, values: Ledger, now: int
    ) -> None:
        """Scores every visitor as it is now (customers: none), with the page values as they stand
        now, and the signals behind the scores above the site's rate."""
        from footfall.scoring.explain import explain

        rate = values.rate
        for start in range(0, len(seen), WRITE_CHUNK):
            part = [(t, row(t, NEVER, values, model.goal_names)) for t in seen[start : start + WRITE_CHUNK]]
            live = [(t, r) for t, r in part if r is not None and t.converted_at is None]
            p = model.probability([r for _, r in live]) if live else np.zeros(0)
            high = [i for i, q in enumerate(p) if q > rate]
            why = dict(zip(high, explain(model, [live[i][1] for i in high], p[high]), strict=True))
            rows = [
                (t.root, site_num, float(q), dumps(dimensions_of(r)), dumps(why.get(i, [])), now, t.root)
                for i, ((t, r), q) in enumerate(zip(live, p, strict=True))
            ] + [(t.root, site_num, None, dumps({}), None, now, t.root) for t, r in part if t.converted_at is not None]

            def save(tx: Tx, rows: list[tuple[Any, ...]] = rows) -> None:
                # a visitor erased since it was read gets no score
                tx.executemany(
                    "INSERT INTO visitor_scores (visitor_num, site_num, probability, dimensions, signals, scored_at) "
                    "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM visitors WHERE num = ?) "
                    "ON CONFLICT (visitor_num) DO UPDATE SET probability = excluded.probability, "
                    "dimensions = excluded.dimensions, signals = excluded.signals, scored_at = excluded.scored_at",
                    rows,
                )

            self.store.write(save)


def scoring_loop(settings: Settings, interval: float, parent: int, holder: str) -> None:
    """The server's scoring process: the job every `interval` seconds, niced, with its own store, so
    its work never holds the collect path's interpreter, and on one core (scikit-learn's OpenMP and
    BLAS pools limited to one thread: on two cores, two threads cost 60% more CPU for 10% less
    wall time, taken from the collect path). It ends with the server (terminated at shutdown; it
    also stops by itself if the server process is gone)."""
    from threadpoolctl import threadpool_limits

    import footfall.scoring.fitting  # noqa: F401  scikit-learn and its OpenMP runtime, loaded to be limited

    os.nice(10)
    threadpool_limits(limits=1)
    store = open_store(settings)
    clock = SystemClock()
    job = leased(store, clock, "scoring", holder, Scoring(store, clock, settings.usd_rates or {}).run)
    try:
        while True:
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline:
                if os.getppid() != parent:
                    return
                time.sleep(min(1.0, interval))
            try:
                job()  # once across instances (its lease)
            except Exception:  # logged and tried again at the next interval
                log.exception("scoring failed")
    finally:
        store.close()
