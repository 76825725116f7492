"""Lead scoring on a site's own visitors: a synthetic shop with a known rule, replayed through
collect; features count only what came before a conversion; the evaluate command on the site."""

from __future__ import annotations

import re

from footfall import accounts
from footfall.scoring.features import visitor_rows
from footfall.settings import Settings
from tests.support.servers import AppServer
from tests.support.shop import replay
from tests.test_cli import run


def test_a_known_rule_is_learned_from_the_sites_visitors(server: AppServer, settings: Settings) -> None:
    site, key = server.add_site("shop.example.com", scopes=("payments:write", "goals:write"))
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["signup"]}))
    shoppers = replay(server, site, key, 240, after=True)
    paid = server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM payments")["n"])
    site_num = server.store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
    rows = server.store.read(lambda tx: visitor_rows(tx, site_num, ["signup"]))
    assert len(rows) == 240 and paid > 10
    assert sum(r["converted"] for r in rows) == sum(s.converted for s in shoppers)
    converted = [r for r in rows if r["converted"]]
    assert all(r["pageviews"] == 2 + r["intent_views"] for r in converted)  # nothing after converting
    assert {r["pageviews"] for r in rows if not r["converted"]} <= {3, 4}  # their /after page counts
    code, out = run(settings, "score", "evaluate", "--site", site, "--folds", "3")  # the trainer, cross-validated
    found = re.search(r"AUC (0\.\d+)", out)
    assert code == 0 and "240 rows" in out and found, out
    assert float(found.group(1)) > 0.8, out
