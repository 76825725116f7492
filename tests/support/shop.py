"""A synthetic shop with a known conversion rule, replayed through collect: visitors who look at
the pricing page convert 70% of the time, the others 3%. Half the conversions are payments, half
the goal the site counts as a conversion (`signup`)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from tests.support.collect import event, post
from tests.support.servers import AppServer

RULE = {True: 0.7, False: 0.03}
HOST = "https://shop.example.com"


@dataclass
class Shopper:
    visitor_id: str
    intent: bool
    converted: bool


def visit(server: AppServer, site: str, intent: bool, rng: random.Random) -> str:
    """A visit of the home page, the pricing page when `intent`, and one more page; its visitor id."""
    visitor = None
    for path in ["/", *(["/pricing"] if intent else []), rng.choice(["/blog", "/docs", "/about"])]:
        body = event(site, f"{HOST}{path}", **({"visitorId": visitor} if visitor else {}))
        answer = post(server.url, body)
        assert answer.status_code == 202, answer.text
        visitor = answer.json()["visitorId"]
        server.clock.advance(seconds=20)
    assert visitor is not None
    return str(visitor)


def convert(server: AppServer, site: str, key: str, visitor: str, n: int, pay: bool, currency: str = "USD") -> None:
    if pay:
        body = {"amount": 49, "currency": currency, "transaction_id": f"t{n}", "datafast_visitor_id": visitor}
        answer = httpx.post(f"{server.url}/api/v1/payments", json=body, headers={"authorization": f"Bearer {key}"})
        assert answer.status_code == 200, answer.text
    else:
        extra = {"eventName": "signup"}
        assert post(server.url, event(site, f"{HOST}/", type="custom", visitorId=visitor, extraData=extra)).is_success


def replay(server: AppServer, site: str, key: str, n: int, seed: int = 4, after: bool = False) -> list[Shopper]:
    """`n` shoppers following the rule; with `after`, each also views /after once done (so a model
    that counted what follows a conversion would see it)."""
    rng = random.Random(seed)
    shoppers = []
    for i in range(n):
        intent = rng.random() < 0.35
        visitor = visit(server, site, intent, rng)
        converted = rng.random() < RULE[intent]
        if converted:
            convert(server, site, key, visitor, i, pay=bool(i % 2))
        if after:
            server.clock.advance(seconds=20)
            post(server.url, event(site, f"{HOST}/after", visitorId=visitor))
        server.clock.advance(minutes=1)
        shoppers.append(Shopper(visitor, intent, converted))
    return shoppers
