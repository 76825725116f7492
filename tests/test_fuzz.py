"""Fuzzing: schemathesis over the app's OpenAPI document, hypothesis over collect payloads and over
the analytics' query parameters, and hand-made hostile bodies. Nothing may answer 5xx; every
refusal is a clean 4xx in its API's envelope; what was accepted before is still there.

The numbers of cases tried are printed (`pytest -s tests/test_fuzz.py`) and kept in
docs/reliability.md.
"""

from __future__ import annotations

import json
import string
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from footfall import accounts
from tests.support.collect import CLIENT, event, post
from tests.support.servers import UA_CHROME_MAC, AppServer

EXAMPLES = 60  # per hypothesis test and per API operation
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same cases every run: a failure can be replayed
)
HEADERS = {"user-agent": UA_CHROME_MAC}

# any JSON value, nested a little
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
ABSURD_NUMBERS = st.sampled_from([-1, 0, -(2**63), 2**63, 2**200, 1e308, -1e308, 253402300800000])
TEXT = st.text(max_size=60) | st.text(alphabet=string.printable, min_size=2000, max_size=5000)


def wire_event(site: str) -> st.SearchStrategy[dict[str, Any]]:
    """DataFast's wire format with every field sometimes right, sometimes junk."""
    field = {
        "websiteId": st.one_of(st.just(site), st.just(site), st.just(site), TEXT, JSON),  # mostly right
        "domain": st.just("example.com") | TEXT,
        "href": st.one_of(
            *[st.sampled_from(["https://example.com/", "https://example.com/a?utm_source=x"])] * 3, TEXT, JSON
        ),
        "referrer": st.none() | TEXT | JSON,
        "type": st.sampled_from(["pageview", "custom", "identify", "payment", "nonsense"]) | TEXT,
        "visitorId": st.none() | st.uuids().map(str) | TEXT,
        "sessionId": st.none() | TEXT,
        "viewport": st.fixed_dictionaries({"width": ABSURD_NUMBERS, "height": ABSURD_NUMBERS}) | JSON,
        "screenWidth": ABSURD_NUMBERS | JSON,
        "screenHeight": ABSURD_NUMBERS | JSON,
        "language": TEXT,
        "timezone": st.sampled_from(["Europe/London", "Mars/Olympus"]) | TEXT,
        "adClickIds": JSON,
        "extraData": JSON,
        "timestamp": ABSURD_NUMBERS | TEXT,
    }
    return st.fixed_dictionaries(
        {"websiteId": field["websiteId"]}, optional={k: v for k, v in field.items() if k != "websiteId"}
    )


def valid_event(site: str) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed events with odd but legal values: they go all the way through the pipeline."""
    return st.fixed_dictionaries(
        {
            "websiteId": st.just(site),
            "href": st.text(alphabet=string.ascii_letters + string.digits + "/?=&%._-", max_size=200).map(
                lambda tail: "https://example.com/" + tail
            ),
            "type": st.sampled_from(["pageview", "custom"]),
        },
        optional={
            "referrer": st.sampled_from(["https://www.google.com/", "android-app://x", "", "not a url"]),
            "extraData": st.dictionaries(
                st.from_regex(r"[a-z_]{1,12}", fullmatch=True), st.text(max_size=30), max_size=5
            ).map(lambda d: d | {"eventName": "signup"}),
            "viewport": st.fixed_dictionaries({"width": st.integers(0, 10_000), "height": st.integers(0, 10_000)}),
            "language": st.text(max_size=20),
            "timezone": st.text(max_size=40),
            "adClickIds": st.dictionaries(st.sampled_from(["gclid", "fbclid", "msclkid"]), st.text(max_size=50)),
        },
    )


def check_collect_answer(answer: httpx.Response, tried: Counter[int]) -> None:
    tried[answer.status_code] += 1
    assert answer.status_code in (202, 400, 413), answer.text
    body = answer.json()
    if answer.status_code == 202:
        assert "requestId" in body or "events" in body, body
    else:
        assert body["status"] == "error" and body["error"]["code"] == answer.status_code, body


def stored(server: AppServer) -> int:
    return int(server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM events")["n"]))


def test_collect_payloads(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    kept = post(server.url, event(site)).json()["requestId"]
    tried: Counter[int] = Counter()

    @FUZZ
    @given(body=valid_event(site) | wire_event(site) | JSON)
    def single(body: Any) -> None:
        check_collect_answer(CLIENT.post(f"{server.url}/api/events", json=body, headers=HEADERS), tried)

    @FUZZ
    @given(body=st.lists(valid_event(site), max_size=5) | st.lists(wire_event(site), max_size=5) | JSON)
    def batch(body: Any) -> None:
        check_collect_answer(CLIENT.post(f"{server.url}/api/events/batch", json=body, headers=HEADERS), tried)

    single()
    batch()
    print(f"\ncollect payloads: {sum(tried.values())} cases, answers {dict(tried)}")
    assert server.store.read(lambda tx: tx.one("SELECT 1 AS x FROM events WHERE request_id = ?", (kept,)))


def test_hostile_bodies(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    before = stored(server)
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    page = {"websiteId": site, "href": "https://example.com/"}
    cases = {
        "malformed JSON": b'{"websiteId": ',
        "invalid UTF-8": b'{"websiteId": "\xff\xfe\xfa", "href": "https://example.com/"}',
        "deep nesting": deep,
        "deep object": b'{"websiteId": "' + site.encode() + b'", "extraData": ' + nested + b"}",
        "a number for an object": b"42",
        "NaN": b'{"websiteId": "x", "href": NaN}',
        "huge body": b'{"websiteId": "' + b"x" * 2_000_000 + b'"}',
        "giant href": json.dumps({"websiteId": site, "href": "https://example.com/" + "a" * 500_000}).encode(),
        "far-future timestamp": json.dumps(page | {"timestamp": 10**18}).encode(),
        "negative viewport": json.dumps(page | {"viewport": {"width": -5, "height": -1}}).encode(),
    }  # fmt: skip
    for name, raw in cases.items():
        for path in ("/api/events", "/api/events/batch"):
            answer = CLIENT.post(
                server.url + path, content=raw, headers={**HEADERS, "content-type": "application/json"}
            )
            assert answer.status_code in (202, 400, 413), (name, path, answer.status_code, answer.text[:200])
            body = answer.json()
            if answer.status_code != 202:
                assert body["error"]["code"] == answer.status_code and body["error"]["message"], (name, body)
    # no bogus row made it in: the only acceptable ones are whole, valid events (clamped where absurd)
    rows = server.store.read(lambda tx: tx.all("SELECT href, viewport_width FROM events"))
    assert len(rows) >= before
    assert all(r["viewport_width"] is None or r["viewport_width"] >= 0 for r in rows)
    assert all(len(r["href"] or "") <= 4096 for r in rows)


ANALYTICS = ["overview", "timeseries", "pages", "countries", "referrers", "campaigns", "goals", "realtime/map"]
PARAM = st.sampled_from(
    ["startAt", "endAt", "timezone", "limit", "offset", "interval", "fields", "filter_country", "filter_page",
     "filter_utm_source", "filter_nope", "websiteId"]
)  # fmt: skip
VALUE = st.sampled_from(["2026-01-01", "2026-13-45", "2026-01-01T00:00:00Z", "-1", "0", "99999999999", "is:GB",
                         "contains:/a", "bogus:x", "day", "hour", "century", "Mars/Olympus", "America/New_York",
                         "visitors,nope", ""]) | st.text(max_size=30)  # fmt: skip


def test_analytics_query_parameters(server: AppServer) -> None:
    site, key = server.add_site("example.com")
    post(server.url, event(site, "https://example.com/a?utm_source=news"))
    tried: Counter[int] = Counter()

    @FUZZ
    @given(endpoint=st.sampled_from(ANALYTICS), params=st.dictionaries(PARAM, VALUE, max_size=5))
    def query(endpoint: str, params: dict[str, str]) -> None:
        answer = CLIENT.get(
            f"{server.url}/api/v1/analytics/{endpoint}", params=params, headers={"authorization": f"Bearer {key}"}
        )
        tried[answer.status_code] += 1
        assert answer.status_code in (200, 400, 403, 404), (endpoint, params, answer.text)
        body = answer.json()
        if answer.status_code == 200:
            assert body["status"] == "success"
        else:
            assert body["status"] == "error" and body["error"]["code"] == answer.status_code, body

    query()
    print(f"\nanalytics query parameters: {sum(tried.values())} cases, answers {dict(tried)}")


def test_openapi_operations_never_fail(server: AppServer) -> None:
    """schemathesis: every operation of /openapi.json with generated and invalid inputs, with an
    account key that can do everything; no 5xx, and documented JSON answers match the document."""
    site, _ = server.add_site("example.com")
    key = server.store.write(lambda tx: accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0])
    post(server.url, event(site))
    document = httpx.get(f"{server.url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    tried: Counter[str] = Counter()

    def fuzz(operation: Any, name: str) -> Any:
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            params = dict(case.query or {}) | {"websiteId": site}
            answer = case.call_and_validate(  # no 5xx; documented JSON answers match the document
                base_url=server.url,
                headers={"authorization": f"Bearer {key}"},
                params=params,
                checks=[checks.not_a_server_error, checks.response_schema_conformance],
            )
            tried[name] += 1
            assert answer.status_code < 500, (case.method, case.formatted_path, answer.status_code, answer.text)

        return call

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/webhooks/"):
            continue  # signed by the payment provider, not keyed

        fuzz(operation, f"{operation.method.upper()} {operation.path}")()
    print(f"\nschemathesis: {sum(tried.values())} cases over {len(tried)} operations")
    assert len(tried) >= 35


@pytest.mark.parametrize("path", ["/api/v1/identify", "/api/v1/payments", "/api/v1/goals", "/api/v1/segments"])
def test_keyed_bodies(server: AppServer, path: str) -> None:
    site, _ = server.add_site("example.com")
    key = server.store.write(lambda tx: accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0])
    tried: Counter[int] = Counter()

    @FUZZ
    @given(body=JSON | st.dictionaries(st.sampled_from(["email", "user_id", "amount", "currency", "name",
                                                         "transaction_id", "datafast_visitor_id", "rules"]),
                                        JSON | TEXT | ABSURD_NUMBERS, max_size=6))  # fmt: skip
    def call(body: Any) -> None:
        answer = CLIENT.post(
            f"{server.url}{path}", params={"websiteId": site}, json=body, headers={"authorization": f"Bearer {key}"}
        )
        tried[answer.status_code] += 1
        assert 200 <= answer.status_code < 500, (body, answer.text)
        if answer.status_code >= 400:
            assert answer.json()["status"] == "error", answer.text

    call()
    print(f"\n{path}: {sum(tried.values())} cases, answers {dict(tried)}")
