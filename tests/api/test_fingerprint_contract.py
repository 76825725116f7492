"""Fingerprint Server API v3 held to its contract ([T6]): both official SDKs (PyPI
`fingerprint-pro-server-api-sdk` 8.x, npm `@fingerprintjs/fingerprintjs-pro-server-api` 6.x) go
through a recording proxy, and every answer they got is validated against Fingerprint's v3 OpenAPI
(../shared/specs/fingerprint-v3/openapi-v3.yaml) with openapi-core. Also: related visitors, the
smart signals footfall computes, every search filter applied or refused, Fingerprint's envelope on
unknown routes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.api.test_datafast_sdk import clients  # noqa: F401 - the npm clients fixture
from tests.support.collect import event, post
from tests.support.fingerprint import EventsUpdateRequest, KnownApiException, fingerprint_key, sdk
from tests.support.geo_dbs import CLOUD_IP, LONDON_IP
from tests.support.recorder import Exchange, Recorder
from tests.support.servers import UA_CHROME_MAC, AppServer

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "fingerprint-v3" / "openapi-v3.yaml"
SIGNALS = {"h": "0a1b2c3d", "s": "c0c0c0c0", "c": {"cv": "11aa22bb", "tz": "Europe/London", "hc": 8}}
MISMATCH = {"wd": False, "b": "Chromium/156,Not:A-Brand/8"}  # client hints contradict the user agent's Chrome 126


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    if not SPEC.exists():
        pytest.skip("../shared/specs/fingerprint-v3 is beside the project only")
    return OpenAPI.from_file_path(str(SPEC))


def invalid(openapi: OpenAPI, exchanges: list[Exchange]) -> list[str]:
    """Every exchange whose answer the v3 OpenAPI does not allow, with why."""
    problems = []
    for x in exchanges:
        request = MockRequest("https://api.fpjs.io", x.method.lower(), x.path, args=_args(x.query))
        kind = x.headers.get("content-type", "application/json").split(";")[0]
        response = MockResponse(x.body, status_code=x.status, content_type=kind or "application/json")
        try:
            openapi.validate_response(request, response)
        except Exception as exc:  # openapi-core's errors name the schema and field
            causes = "; ".join(str(c) for c in getattr(exc, "schema_errors", ()) or (getattr(exc, "__cause__", None),))
            problems.append(f"{x.method} {x.path} {x.status}: {exc} {causes} {x.body[:300]!r}")
    return problems


def _args(query: str) -> dict[str, str]:
    return dict(httpx.QueryParams(query).items())


def identify(server: AppServer, site: str, **kw: Any) -> dict[str, Any]:
    ip = kw.pop("ip", LONDON_IP)
    answer = post(server.url, event(site, type="identification", **kw), ip=ip)
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


def device(server: AppServer, site: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A visitor and a second browser of the same device (storage cleared), matched to it."""
    first = identify(server, site, ffSignals=SIGNALS, timezone="Europe/London", extraData={"linkedId": "L1"})
    server.clock.advance(seconds=30)
    second = identify(server, site, ffSignals=SIGNALS, timezone="Europe/London")
    assert second["browserId"] != first["visitorId"]
    return first, second


def test_the_python_sdk_round_trips_every_call_within_the_openapi(server: AppServer, openapi: OpenAPI) -> None:
    site, _ = server.add_site("example.com")
    first, second = device(server, site)
    vpn = identify(server, site, timezone="America/New_York", visitorId=first["visitorId"])  # London address
    server.clock.advance(seconds=1)
    key = fingerprint_key(server, site, ("fingerprint:read", "fingerprint:write"))
    with Recorder(server.url) as proxy:
        api = sdk(server, key)
        api.api_client.configuration.host = proxy.url
        event_ = api.get_event(first["requestId"]).products
        assert event_.identification.data.visitor_id == first["visitorId"]
        assert event_.vpn.data.result is False and event_.velocity.data.events.intervals._5m == 1
        flagged = api.get_event(vpn["requestId"]).products
        assert flagged.vpn.data.result is True and flagged.vpn.data.methods.timezone_mismatch is True
        assert flagged.vpn.data.origin_timezone == "America/New_York"
        assert flagged.suspect_score.data.result == 5 and flagged.velocity.data.events.intervals._5m == 3
        api.update_event(EventsUpdateRequest(linked_id="user-7", suspect=True), first["requestId"])
        assert [e.products.identification.data.request_id for e in api.search_events(10, vpn=True).events] == [
            vpn["requestId"]
        ]
        assert len(api.search_events(10).events) == 3
        visits = api.get_visits(first["visitorId"], limit=10).visits
        assert len(visits) == 3  # the matched browser's visit counts for its visitor
        related = api.get_related_visitors(first["visitorId"]).related_visitors
        assert [r.visitor_id for r in related] == [second["browserId"]]
        back = api.get_related_visitors(second["browserId"]).related_visitors
        assert [r.visitor_id for r in back] == [first["visitorId"]]
        for call in (
            lambda: api.get_related_visitors("00000000-0000-4000-8000-000000000000"),
            lambda: api.get_event("1700000000000.nothere"),
            lambda: api.search_events(10, virtual_machine=True),
            lambda: api.get_related_visitors("not-a-uuid"),
        ):
            with pytest.raises(KnownApiException) as refused:
                call()
            assert refused.value.status in (400, 404)
        api.delete_visitor_data(first["visitorId"])
    assert {(x.method, x.path.split("/")[1]) for x in proxy.exchanges} >= {
        ("GET", "events"), ("PUT", "events"), ("GET", "visitors"), ("DELETE", "visitors"), ("GET", "related-visitors")
    }  # fmt: skip
    assert invalid(openapi, proxy.exchanges) == []


def test_the_node_sdk_round_trips_every_call_within_the_openapi(
    server: AppServer,
    openapi: OpenAPI,
    clients: Path,  # noqa: F811 - the fixture
) -> None:
    site, _ = server.add_site("example.com")
    first, second = device(server, site)
    key = fingerprint_key(server, site, ("fingerprint:read", "fingerprint:write"))
    with Recorder(server.url) as proxy:
        config = {"url": proxy.url, "apiKey": key, "visitorId": first["visitorId"], "requestId": first["requestId"]}
        done = subprocess.run(["node", str(clients / "fingerprint.mjs"), json.dumps(config)], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["getEvent"]["ok"] and got["getEvent"]["value"]["products"]["identification"]["data"]["linkedId"] == "L1"
    assert got["updateEvent"]["ok"]
    after = got["getEventAfterUpdate"]["value"]["products"]["identification"]["data"]
    assert (after["linkedId"], after["suspect"]) == ("node-user", True)
    assert len(got["searchEvents"]["value"]["events"]) == 2 and len(got["searchSuspect"]["value"]["events"]) == 1
    assert got["searchVpn"]["value"]["events"] == []
    assert (got["searchUnsupported"]["status"], got["searchUnsupported"]["code"]) == (400, "RequestCannotBeParsed")
    assert len(got["getVisits"]["value"]["visits"]) == 2
    assert got["getRelatedVisitors"]["value"] == {"relatedVisitors": [{"visitorId": second["browserId"]}]}
    assert (got["getRelatedUnknown"]["status"], got["getRelatedUnknown"]["code"]) == (404, "VisitorNotFound")
    assert (got["getEventUnknown"]["status"], got["getEventUnknown"]["code"]) == (404, "RequestNotFound")
    assert got["deleteVisitorData"]["ok"]
    assert len(proxy.exchanges) == 12 and invalid(openapi, proxy.exchanges) == []


def test_smart_signals_and_the_filters_that_find_them(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    home = identify(server, site, timezone="Europe/London")
    travelling = identify(server, site, timezone="Asia/Tokyo")  # a London address: a VPN's tell
    cloud = identify(server, site, timezone="Asia/Tokyo", ip=CLOUD_IP)  # a data centre the city database cannot place
    forged = identify(server, site, timezone="Europe/London", ffAutomation=MISMATCH)
    private = identify(server, site, ffSignals={**SIGNALS, "q": 4000, "m": 4096})  # Chromium's private window
    api = sdk(server, fingerprint_key(server, site))

    def found(**filters: Any) -> set[str]:
        return {e.products.identification.data.request_id for e in api.search_events(10, **filters).events}

    every = {a["requestId"] for a in (home, travelling, cloud, forged, private)}
    assert found() == every
    assert found(vpn=True) == {travelling["requestId"]}  # no located zone, no contradiction: not claimed
    assert found(vpn=False) == every - {travelling["requestId"]}
    assert found(vpn_confidence="medium") == {travelling["requestId"]} and found(vpn_confidence="high") == set()
    assert found(proxy=True) == found(datacenter=True) == {cloud["requestId"]}
    assert found(tampering=True) == {forged["requestId"]}
    assert found(incognito=True) == {private["requestId"]}
    assert found(min_suspect_score=15) == {cloud["requestId"]}  # bot 10 (hosting network) + proxy 5
    assert found(min_suspect_score=7) == {cloud["requestId"], forged["requestId"]}  # tampering 7
    assert found(min_suspect_score=5) == found(min_suspect_score=7) | {travelling["requestId"]}  # VPN 5
    assert found(jailbroken=True) == set() and found(jailbroken=False) == every  # a mobile SDK's signal
    score = api.get_event(cloud["requestId"]).products
    assert (score.suspect_score.data.result, score.proxy.data.details.proxy_type) == (15, "data_center")
    assert score.vpn.data.result is False and score.tampering is None  # tampering: searched, not shown
    assert api.get_event(private["requestId"]).products.suspect_score.data.result == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("vpn=maybe", "invalid vpn param"),
        ("incognito=1", "invalid incognito param"),
        ("suspect=yes", "invalid suspect param"),
        ("vpn_confidence=certain", "invalid vpn_confidence param"),
        ("min_suspect_score=-1", "invalid min_suspect_score param"),
        ("ip_blocklist=false", "ip_blocklist is not supported"),
        ("developer_tools=true", "developer_tools is not supported"),
        ("sdk_platform=js", "sdk_platform is not supported"),
        ("environment=env_1", "environment is not supported"),
        ("proximity_id=p1", "proximity_id is not supported"),
    ],
)
def test_every_search_filter_is_applied_or_refused(server: AppServer, query: str, message: str) -> None:
    site, _ = server.add_site("example.com")
    key = fingerprint_key(server, site)
    answer = httpx.get(f"{server.url}/events/search?limit=10&{query}", headers={"auth-api-key": key})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "RequestCannotBeParsed"
    assert answer.json()["error"]["message"].startswith(message)


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/events/1/extra", 404, {"error": {"code": "RequestNotFound", "message": "request id is not found"}}),
        ("POST", "/events/search", 405, {"error": {"code": "Failed", "message": "Method Not Allowed"}}),
        ("GET", "/related-visitors/x", 404, {"error": {"code": "VisitorNotFound", "message": "visitor not found"}}),
        ("PATCH", "/visitors/abc", 405, {"error": {"code": "Failed", "message": "Method Not Allowed"}}),
    ],
)
def test_unknown_routes_under_fingerprints_paths_answer_in_its_envelope(
    server: AppServer, method: str, path: str, status: int, body: dict[str, Any]
) -> None:
    answer = httpx.request(method, server.url + path, headers={"user-agent": UA_CHROME_MAC})
    assert (answer.status_code, answer.json()) == (status, body)


def test_related_visitors_needs_a_visitor_of_the_keys_sites(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    other, _ = server.add_site("other.example.com")
    first, _ = device(server, site)
    foreign = sdk(server, fingerprint_key(server, other))
    with pytest.raises(KnownApiException) as hidden:
        foreign.get_related_visitors(first["visitorId"])
    assert hidden.value.status == 404
    alone = identify(server, site, ip=CLOUD_IP)
    own = sdk(server, fingerprint_key(server, site))
    assert own.get_related_visitors(alone["visitorId"]).related_visitors == []
    missing = httpx.get(f"{server.url}/related-visitors", headers={"auth-api-key": fingerprint_key(server, site)})
    assert missing.status_code == 400 and missing.json()["error"]["message"] == "visitor id is required"
