"""Lead scoring on a site's own visitors: a synthetic shop with a known rule, replayed through
collect. Rows count nothing from a conversion on; training rows (the history replayed in time
order) and live rows (the store's ledger as it stands) are the same rows; `footfall score
evaluate` measures the live model on a temporal hold-out beside its two baselines."""

from __future__ import annotations

import re

from footfall import accounts
from footfall.scoring import ledger, timelines
from footfall.scoring.dataset import Sample, goal_names, replay, rows, sample
from footfall.scoring.features import NEVER, row
from footfall.settings import Settings
from tests.support.servers import AppServer
from tests.support.shop import replay as shop
from tests.test_cli import run


def _num(server: AppServer, site: str) -> int:
    return int(server.store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"])


def test_rows_stop_at_the_conversion_and_training_rows_are_live_rows(server: AppServer) -> None:
    site, key = server.add_site("shop.example.com", scopes=("payments:write", "goals:write"))
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["signup"]}))
    shoppers = shop(server, site, key, 90, after=True)
    num = _num(server, site)
    seen = server.store.read(lambda tx: timelines.read(tx, num, ["signup"]))
    assert len(seen) == 90 and sum(t.converted_at is not None for t in seen) == sum(s.converted for s in shoppers)
    names = goal_names(seen)
    assert "signup" not in names  # a conversion is the label, never a feature
    # the whole site read in scans (training) is the same as visitors read by chunks (the job's runs)
    chosen = server.store.read(lambda tx: timelines.read(tx, num, ["signup"], [t.root for t in seen]))
    assert chosen == seen

    # a converted visitor cut after any of its events: nothing from its conversion on is in its row
    for t in (t for t in seen if t.converted_at is not None):
        for ts, *_ in t.events:
            r = row(t, ts + 1, ledger.Ledger(), names)
            assert r is not None and r["pageviews"] <= 3  # home, pricing, one more: never the /after page
    live = [row(t, NEVER, ledger.Ledger(), names) for t in seen if t.converted_at is not None]
    assert all(r is not None and r["pageviews"] == 2 + r["intent_views"] for r in live)

    # the ledger the store counts now is the one the replay arrives at after the last event...
    last = max(e[0] for t in seen for e in t.events)
    at_end = [Sample(t, last + 1, 0) for t in seen]
    replayed = replay(seen, at_end, names)
    now = server.store.read(lambda tx: ledger.now(tx, num, ["signup"]))
    assert now.visitors == 90 and now.conversions == sum(s.converted for s in shoppers)
    assert now.viewers["/pricing"] == sum(s.intent for s in shoppers) and now.viewers["/after"] > 0
    assert 0 < now.converted["/pricing"] < now.viewers["/pricing"]
    # ...so each visitor's live row is its training row at that moment
    assert [row(t, NEVER, now, names) for t in seen] == replayed

    # a row at an earlier cut sees the ledger as it stood then: no later conversion is in it
    first = sample(seen)
    early, labels = rows(seen, [s for s in first if s.cut < seen[10].first_seen], names)
    assert early and labels.tolist() == [s.label for s in first if s.cut < seen[10].first_seen]


def test_evaluate_measures_the_live_model_on_later_visitors(server: AppServer, settings: Settings) -> None:
    site, key = server.add_site("shop.example.com", scopes=("payments:write", "goals:write"))
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["signup"]}))
    shop(server, site, key, 360)
    code, out = run(settings, "score", "evaluate", "--site", site)
    assert code == 0, out
    assert "360 visitors with a page view" in out
    trained = re.search(r"trained on ([\d,]+) first seen before", out)
    scored = re.search(r"scored ([\d,]+) first seen from", out)
    assert trained and scored and int(trained.group(1)) + int(scored.group(1)) == 360, out  # the latest quarter
    assert int(scored.group(1)) == 90, out
    aucs = {m[1]: float(m[2]) for m in re.finditer(r"^\| ([^|]+?) \| (0\.\d+) \| 0\.\d+-0\.\d+ \|", out, re.M)}
    assert set(aucs) == {"footfall (gradient boosting)", "logistic regression", "rule: latest goal"}, out
    assert aucs["footfall (gradient boosting)"] > 0.7, out  # the pricing rule, seen through random cuts
    assert "calibration" in out and "signals" in out
    code, out = run(settings, "score", "evaluate", "--site", site, "--train-before", "2030-01-02",
                    "--score-from", "2030-01-01")  # fmt: skip
    assert code == 1 and "must not be after" in out, out
