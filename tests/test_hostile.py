"""Hostile input on both stores ([T7] 1 and 10): every wire format of collect, driven through the
writer process, and every keyed API's parameters, path segments and bodies, with values no client
should send: integers at and past 64 bits, NUL, control characters, lone surrogates, deep nesting,
huge strings and calendar-end dates. Nothing may answer 5xx or hang, and good requests sent at the
same moment are all stored.

Deterministic: the same cases every run. `pytest -s tests/test_hostile.py` prints how many were
tried (kept in docs/reliability.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from footfall import accounts
from footfall.settings import Settings
from tests.support.collect import EVENTS, event
from tests.support.servers import UA_CHROME_MAC, AppServer

NUMBERS: list[Any] = [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**40, -(10**40), 1e308, -1e308]
TEXTS = ["\x00", "a\x00b", "\x01\x02\x1f\x7f", "\u202e\u2066evil", "x" * 100_000, "🦆" * 1000, "%00", "'; DROP --"]
SHAPES: list[Any] = [None, True, [], {}, [[[[[]]]]], {"a": {"b": {"c": {"d": {}}}}}]
HOSTILE = NUMBERS + TEXTS + SHAPES
# raw JSON that Python's json module cannot produce
RAW_VALUES = [b'"\\ud800"', b'"\\udfff tail"', b"NaN", b"Infinity", b"-Infinity", b"1e400", b"[" * 2000 + b"]" * 2000]
QUERY_VALUES = ["\x00", "a\x00b", "%00", "\x01", "9" * 30, "-" + "9" * 30, "9223372036854775808",
                "-9223372036854775809", "9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z", "1e308", "NaN",
                "x" * 5000, "🦆"]  # fmt: skip
TIMEOUT = 20.0


@pytest.fixture
def server(settings: Settings, city_dbs: dict[str, Path]) -> Iterator[AppServer]:
    """The app with its API rate limits out of the way: every hostile case must reach its route."""
    unlimited = settings.replace(api_rate_per_minute=10**9, fingerprint_rate=1e9, fingerprint_burst=1e9,
                                 floqer_rate_per_minute=10**9, floqer_rate_per_day=10**9)  # fmt: skip
    with AppServer(unlimited.replace(geoip_city=str(city_dbs["geoip2"]), geoip_asn=str(city_dbs["asn"]))) as srv:
        yield srv


def _collect_cases(site: str) -> Iterator[tuple[str, str, bytes]]:
    """(method, path, body) for every field of every collect wire format, with every hostile value."""
    page = {"websiteId": site, "href": "https://example.com/h", "type": "pageview"}
    fields = ["websiteId", "href", "type", "referrer", "title", "visitorId", "sessionId", "language", "timezone",
              "screenWidth", "screenHeight", "viewport", "adClickIds", "extraData", "device", "linkToken",
              "visitorSessionNumber", "visitorFirstSeenAt", "cookieless", "consent"]  # fmt: skip
    for name in fields:
        for value in HOSTILE:
            body = json.dumps(page | {name: value}).encode()
            yield "POST", "/api/events", body
            yield "POST", "/api/events/batch", b'{"events": [' + body + b"]}"
            yield "POST", f"/api/track?site={site}", body
        for raw in RAW_VALUES:
            body = json.dumps(page)[:-1].encode() + b', "' + name.encode() + b'": ' + raw + b"}"
            yield "POST", "/api/events", body
    for inner in ["extraData", "adClickIds"]:
        for value in HOSTILE:
            for key in ["eventName", "user_id", "email", "n", "\x00"]:
                custom = page | {"type": "custom", inner: {"eventName": "signup", key: value}}
                yield "POST", "/api/events", json.dumps(custom).encode()
                identify = page | {"type": "identify", inner: {"user_id": "u-1", key: value}}
                yield "POST", "/api/events", json.dumps(identify).encode()
    device = {"h": "0a1b2c3d", "s": "0a1b2c3d", "c": {}, "q": 1, "m": 1, "a": {}}
    for key in ["h", "s", "c", "q", "m", "a"]:
        for value in HOSTILE:
            yield "POST", "/api/events", json.dumps(page | {"device": device | {key: value}}).encode()
    for value in QUERY_VALUES:
        for param in ["websiteId", "href", "referrer", "visitorId", "title", "type"]:
            query = httpx.QueryParams({"websiteId": site, "href": "https://example.com/g"} | {param: value})
            yield "GET", f"/api/events.gif?{query}", b""
            yield "GET", f"/api/track?{httpx.QueryParams({'site': site, param: value})}", b""
            yield "GET", f"/api/goals/track?{httpx.QueryParams({'site': site, 'event': 'x', param: value})}", b""


def _send(client: httpx.Client, url: str, method: str, path: str, body: bytes) -> httpx.Response:
    headers = {"user-agent": UA_CHROME_MAC, "content-type": "application/json"}
    return client.request(method, url + path, content=body or None, headers=headers, timeout=TIMEOUT)


def test_collect_survives_hostile_input_and_good_requests_alongside_are_stored(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    cases = list(_collect_cases(site))
    good = [json.dumps(event(site, f"https://example.com/good/{i}")).encode() for i in range(200)]
    tried: Counter[int] = Counter()
    with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
        hostile = pool.map(lambda c: _send(client, server.url, *c), cases)
        kept = pool.map(lambda b: _send(client, server.url, "POST", "/api/events", b), good)
        for (method, path, body), answer in zip(cases, hostile, strict=True):
            tried[answer.status_code] += 1
            assert answer.status_code < 500, (method, path, body[:200], answer.status_code, answer.text[:300])
        good_answers = [a.status_code for a in kept]
    assert good_answers == [202] * len(good)
    stored = {r["path"] for r in server.store.read(lambda tx: tx.all(EVENTS + " WHERE e.path LIKE '/good/%'"))}
    assert stored == {f"/good/{i}" for i in range(len(good))}
    assert httpx.get(server.url + "/healthz").text == "ok"
    print(f"\nhostile collect input: {len(cases)} requests {dict(tried)}; {len(good)} good ones alongside, all stored")


def _routes(server: AppServer) -> list[tuple[str, str, list[str]]]:
    """(method, path template, query parameter names) of every keyed route."""
    document = httpx.get(f"{server.url}/openapi.json").json()
    found = []
    for path, item in document["paths"].items():
        if path.startswith("/api/webhooks/"):
            continue
        for method, op in item.items():
            names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
            found.append((method.upper(), path, names))
    fingerprint = ["/visitors/{id}", "/events/{id}", "/events/search", "/related-visitors"]
    fp_params = ["limit", "paginationKey", "pagination_key", "before", "request_id", "linked_id", "visitor_id",
                 "start", "end", "reverse", "suspect", "bot", "ip_address", "vpn", "min_suspect_score"]  # fmt: skip
    found += [("GET", p, fp_params) for p in fingerprint]
    analytics = ["startAt", "endAt", "timezone", "limit", "offset", "interval", "fields", "filter_page",
                 "filter_country", "filter_referrer", "page_no", "page_size", "identified_since",
                 "min_score"]  # fmt: skip
    found += [("GET", f"/api/v1/analytics/{b}", analytics) for b in ("pages", "countries", "timeseries", "overview")]
    return found


def test_keyed_apis_answer_hostile_parameters_without_a_server_error(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    key = server.store.write(lambda tx: accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0])
    first = httpx.post(server.url + "/api/events", json=event(site), headers={"user-agent": UA_CHROME_MAC}).json()
    auth = {"authorization": f"Bearer {key}", "auth-api-key": key}
    tried: Counter[int] = Counter()
    failures = []
    with httpx.Client(headers=auth, timeout=TIMEOUT) as client:
        for method, template, names in _routes(server):
            for value in QUERY_VALUES:
                path = re.sub(r"\{[^}]+\}", quote(value, safe="").replace("\\", "\\\\") or "x", template)
                attempts = [(path, {"websiteId": site})]
                attempts += [(re.sub(r"\{[^}]+\}", first["visitorId"], template), {"websiteId": site, n: value})
                             for n in names]  # fmt: skip
                for target, params in attempts:
                    body = {"x": value} if method in ("POST", "PUT", "PATCH") else None
                    try:
                        answer = client.request(method, server.url + target, params=params, json=body)
                    except httpx.TransportError as exc:  # a 500 drops the connection kept alive
                        failures.append((method, target[:80], str(params)[:120], repr(exc)))
                        continue
                    tried[answer.status_code] += 1
                    if answer.status_code >= 500:
                        failures.append((method, target[:80], str(params)[:120], answer.status_code))
    assert not failures, "\n".join(map(str, failures[:40])) + f"\n({len(failures)} in all)"
    print(f"\nhostile keyed parameters: {sum(tried.values())} requests {dict(tried)}")


def test_keyed_bodies_with_hostile_values_are_refused_cleanly(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    key = server.store.write(lambda tx: accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0])
    auth = {"authorization": f"Bearer {key}"}
    bodies = {
        "/api/v1/identify": {"user_id": "u-1", "datafast_visitor_id": None, "email": "a@b.co"},
        "/api/v1/payments": {"amount": 1, "currency": "USD", "transaction_id": "t", "email": "a@b.co"},
        "/api/v1/goals": {"datafast_visitor_id": "x", "name": "signup"},
        "/api/v1/links": {"email": "a@b.co", "name": "A"},
        "/api/v1/segments": {"name": "s", "rules": {"country": ["GB"]}},
        "/api/v1/contacts/import": {"contacts": [{"email": "a@b.co", "name": "A"}]},
        "/api/v1/workflows": {"name": "w", "kind": "webhook", "inputs": ["a"], "url": "https://hooks.example.com/"},
        "/api/v1/sources/track_personal_website_visitors": {"name": "s", "active_domain": "example.com"},
        "/api/identify": {"site": site, "userId": "u-1", "email": "a@b.co"},
        "/api/v1/goal": {"visitorId": "x", "event": "signup"},
        "/api/v1/payment": {"provider": "stripe", "providerPaymentId": "p", "amount": 1, "visitorId": "x"},
    }
    tried: Counter[int] = Counter()
    failures = []
    with httpx.Client(headers=auth, timeout=TIMEOUT) as client:
        for path, base in bodies.items():
            for name in base:
                for value in HOSTILE:
                    try:
                        answer = client.post(server.url + path, params={"websiteId": site}, json=base | {name: value})
                    except httpx.TransportError as exc:  # a 500 drops the connection kept alive
                        failures.append((path, name, repr(value)[:40], repr(exc)))
                        continue
                    tried[answer.status_code] += 1
                    if answer.status_code >= 500:
                        failures.append((path, name, repr(value)[:40], answer.status_code, answer.text[:200]))
                for raw in RAW_VALUES:
                    text = json.dumps(base)[:-1].encode() + b', "' + name.encode() + b'": ' + raw + b"}"
                    answer = client.post(server.url + path, params={"websiteId": site}, content=text,
                                         headers={"content-type": "application/json"})  # fmt: skip
                    tried[answer.status_code] += 1
                    if answer.status_code >= 500:
                        failures.append((path, name, raw[:40], answer.status_code, answer.text[:200]))
    assert not failures, "\n".join(map(str, failures[:40])) + f"\n({len(failures)} in all)"
    print(f"\nhostile keyed bodies: {sum(tried.values())} requests {dict(tried)}")


def test_calendar_ends_and_odd_signatures_are_refused_cleanly(server: AppServer) -> None:
    site, key = server.add_site("example.com")
    secrets = {"stripe_webhook_secret": "whsec_test", "lemonsqueezy_webhook_secret": "ls_test"}
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, secrets))
    auth = {"authorization": f"Bearer {key}"}
    answers = []
    ranges = [("0001-01-01", "9999-12-31", "hour"), ("9999-12-31", "9999-12-31", "day"),
              ("0001-01-01", "0001-01-01", "day"), ("0001-01-01", "9999-12-31", "month")]  # fmt: skip
    for start, end, interval in ranges:
        q = {"websiteId": site, "startAt": start, "endAt": end, "interval": interval}
        answers.append(httpx.get(f"{server.url}/api/v1/analytics/timeseries", params=q, headers=auth).status_code)
        answers.append(httpx.get(f"{server.url}/api/v1/analytics/overview", params=q, headers=auth).status_code)
    assert answers[0] == 400 and all(a in (200, 400) for a in answers), answers
    for path in (f"/api/webhooks/stripe/{site}", f"/api/webhooks/lemonsqueezy/{site}"):
        for signature in ("t=1,v1=\u00e9", "\u00e9\u00e9"):
            headers = {"stripe-signature": signature.encode(), "x-signature": signature.encode()}
            assert httpx.post(server.url + path, content=b"{}", headers=headers).status_code == 400
