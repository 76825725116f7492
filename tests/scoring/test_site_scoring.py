"""Lead scoring on a site's own visitors: a synthetic shop with a known rule, replayed through
collect; features count only what came before a conversion; the evaluate command on the site."""

from __future__ import annotations

import random

import httpx

from footfall import accounts
from footfall.scoring.features import visitor_rows
from footfall.scoring.trainer import cross_validate, table
from footfall.settings import Settings
from tests.support.collect import event, post
from tests.support.servers import AppServer
from tests.test_cli import run


def test_a_known_rule_is_learned_from_the_sites_visitors(server: AppServer, settings: Settings) -> None:
    site, key = server.add_site("shop.example.com", scopes=("payments:write", "goals:write"))
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["signup"]}))
    rng = random.Random(4)
    paid = 0
    for n in range(240):
        intent = rng.random() < 0.35  # looks at pricing: converts 70% of the time, the rest 3%
        pages = ["/", *(["/pricing"] if intent else []), rng.choice(["/blog", "/docs", "/about"])]
        visitor = None
        for path in pages:
            body = event(site, f"https://shop.example.com{path}", **({"visitorId": visitor} if visitor else {}))
            visitor = post(server.url, body).json()["visitorId"]
            server.clock.advance(seconds=20)
        if rng.random() < (0.7 if intent else 0.03):
            if n % 2:  # a payment, or the goal the site counts as a conversion
                paid += 1
                pay = {"amount": 49, "currency": "USD", "transaction_id": f"t{n}", "datafast_visitor_id": visitor}
                httpx.post(f"{server.url}/api/v1/payments", json=pay, headers={"authorization": f"Bearer {key}"})
            else:
                post(server.url, event(site, "https://shop.example.com/", type="custom", visitorId=visitor,
                                       extraData={"eventName": "signup"}))  # fmt: skip
        server.clock.advance(seconds=20)
        post(server.url, event(site, "https://shop.example.com/after", visitorId=visitor))  # after converting
        server.clock.advance(minutes=1)
    site_num = server.store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
    rows = server.store.read(lambda tx: visitor_rows(tx, site_num, ["signup"]))
    assert len(rows) == 240 and paid > 10
    converted = [r for r in rows if r["converted"]]
    assert all(r["pageviews"] == 2 + r["intent_views"] for r in converted)  # nothing after converting
    assert {r["pageviews"] for r in rows if not r["converted"]} <= {3, 4}  # their /after page counts
    result = cross_validate(table(rows, "converted"), folds=3)
    assert result.auc > 0.8, result.auc
    code, out = run(settings, "score", "evaluate", "--site", site, "--folds", "3")
    assert code == 0 and "240 rows" in out and "AUC" in out, out
