"""Fingerprint Server API v3 `GET /visitors/{visitor_id}`, driven by Fingerprint's official Python SDK."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from footfall.settings import Settings
from tests.support.collect import event, post
from tests.support.fingerprint import EventsUpdateRequest, KnownApiException, fingerprint_key, sdk
from tests.support.geo_dbs import CLOUD_IP, LONDON_IP
from tests.support.servers import UA_CHROME_MAC, AppServer


@pytest.fixture
def recorded(server: AppServer) -> Iterator[tuple[str, str, list[dict]]]:
    """(site, visitor id, the five identification answers, oldest first), one second apart."""
    site, _ = server.add_site("example.com")
    answers: list[dict] = []
    visitor = None
    for i in range(5):
        extra = {"linkedId": "order-1" if i % 2 else "order-2", "tag": {"n": i}}
        body = event(site, f"https://example.com/p{i}", type="identification", extraData=extra)
        if visitor:
            body["visitorId"] = visitor
        answer = post(server.url, body, ip=LONDON_IP).json()
        visitor = answer["visitorId"]
        answers.append(answer)
        server.clock.advance(seconds=1)
    yield site, visitor, answers


def test_sdk_reads_visits_newest_first_with_every_required_field(server: AppServer, recorded) -> None:
    site, visitor, answers = recorded
    response = sdk(server, fingerprint_key(server, site)).get_visits(visitor)
    assert response.visitor_id == visitor and response.pagination_key is None  # nothing more remains
    assert [v.request_id for v in response.visits] == [a["requestId"] for a in reversed(answers)]
    newest, oldest = response.visits[0], response.visits[-1]
    assert newest.browser_details.browser_name == "Chrome" and newest.browser_details.os == "Mac OS X"
    assert newest.browser_details.browser_major_version == "126" and newest.browser_details.device == "Other"
    assert newest.browser_details.user_agent == UA_CHROME_MAC
    assert newest.ip == LONDON_IP and newest.ip_location.city.name == "London"
    assert newest.ip_location.country.code == "GB" and newest.url == "https://example.com/p4"
    assert newest.linked_id == "order-2" and newest.tag == {"n": 4} and newest.confidence.score == 1.0
    assert newest.visitor_found is True and oldest.visitor_found is False and newest.incognito is False
    assert newest.timestamp - oldest.timestamp == 4000
    assert newest.first_seen_at.subscription == oldest.first_seen_at.subscription
    assert newest.first_seen_at._global == newest.first_seen_at.subscription  # nothing is linked across sites
    assert newest.last_seen_at._global == newest.last_seen_at.subscription
    assert newest.last_seen_at.subscription is not None and oldest.last_seen_at.subscription is None
    assert newest.time == datetime.fromtimestamp(newest.timestamp // 1000, UTC)  # ISO 8601, whole seconds, UTC


def test_pagination_scans_then_filters(server: AppServer, recorded) -> None:
    site, visitor, answers = recorded
    api = sdk(server, fingerprint_key(server, site))
    pages, key = [], None
    while True:
        page = api.get_visits(visitor, limit=2, pagination_key=key) if key else api.get_visits(visitor, limit=2)
        pages.append([v.request_id for v in page.visits])
        key = page.pagination_key
        if key is None:
            break
        assert page.last_timestamp == page.visits[-1].timestamp
    newest_first = [a["requestId"] for a in reversed(answers)]
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    # Filters apply after the scan: a page can hold fewer than `limit` while more remain.
    linked = api.get_visits(visitor, linked_id="order-1", limit=2)
    assert [v.linked_id for v in linked.visits] == ["order-1"] and linked.pagination_key is not None
    one = api.get_visits(visitor, request_id=answers[0]["requestId"])
    assert [v.request_id for v in one.visits] == [answers[0]["requestId"]]
    before = api.get_visits(visitor, before=int(answers[2]["requestId"].split(".")[0]))  # ms since the epoch
    assert [v.request_id for v in before.visits] == [answers[1]["requestId"], answers[0]["requestId"]]


def test_unknown_or_foreign_visitors_have_no_visits(server: AppServer, recorded) -> None:
    site, visitor, _ = recorded
    other_site, _ = server.add_site("other.example.com")
    assert sdk(server, fingerprint_key(server, site)).get_visits("3f1c0000-0000-4000-8000-000000000000").visits == []
    assert sdk(server, fingerprint_key(server, other_site)).get_visits(visitor).visits == []  # another site's key
    assert len(sdk(server, fingerprint_key(server, None)).get_visits(visitor).visits) == 5  # an account key


def test_auth_errors_in_fingerprints_plain_form(server: AppServer, recorded) -> None:
    site, visitor, _ = recorded
    key = fingerprint_key(server, site)
    for bad in ("ff_not_a_key", fingerprint_key(server, site, scopes=("analytics:read",))):
        with pytest.raises(KnownApiException) as denied:
            sdk(server, bad).get_visits(visitor)
        assert denied.value.status == 403 and denied.value.structured_error.error == "Forbidden (HTTP 403)"
    url = f"{server.url}/visitors/{visitor}"
    assert httpx.get(url).json() == {"error": "Forbidden (HTTP 403)"}
    for header in ("Auth-API-Key", "Auth-Token"):  # and the legacy names, as header and as query
        assert httpx.get(url, headers={header: key}).status_code == 200
    assert httpx.get(url, params={"token": key}).status_code == 200
    assert httpx.get(url, params={"api_key": key, "limit": "many"}).json() == {"error": "bad request"}


def test_too_many_requests_surface_as_the_sdks_429_with_retry_after(settings: Settings) -> None:
    """One request a second per key, bursts of 3, and another client keeping the key busy: the SDK's
    HTTP client waits Retry-After and tries again three times (urllib3's default), then raises."""
    with AppServer(settings.replace(fingerprint_rate=1.0, fingerprint_burst=3.0)) as server:
        site, _ = server.add_site("example.com")
        visitor = post(server.url, event(site, type="identification")).json()["visitorId"]
        key = fingerprint_key(server, site)
        busy = threading.Event()

        def keep_busy() -> None:
            with httpx.Client() as client:
                while not busy.is_set():
                    client.get(f"{server.url}/visitors/{visitor}", headers={"Auth-API-Key": key})
                    time.sleep(0.05)

        other = threading.Thread(target=keep_busy)
        other.start()
        try:
            time.sleep(0.5)  # the burst is spent
            with pytest.raises(KnownApiException) as limited:
                sdk(server, key).get_visits(visitor)
        finally:
            busy.set()
            other.join()
    assert limited.value.status == 429 and limited.value.structured_error.retry_after >= 1
    assert limited.value.structured_error.error == "too many requests"
    assert limited.value.headers["retry-after"] == str(limited.value.structured_error.retry_after)


def test_get_event_has_identification_botd_and_ip_info(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    headless = {"wd": False, "b": "HeadlessChrome/131,Chromium/131"}  # what headless Chromium's tracker reports
    body = event(site, type="identification", ffSignals={"h": "0a1b2c3d", "c": {}}, ffAutomation=headless)
    answer = post(server.url, body | {"extraData": {"linkedId": "L"}}).json()
    products = sdk(server, fingerprint_key(server, site)).get_event(answer["requestId"]).products
    ident = products.identification.data
    assert (ident.visitor_id, ident.request_id, ident.linked_id) == (answer["visitorId"], answer["requestId"], "L")
    assert ident.replayed is False and ident.visitor_found is False and ident.browser_details.browser_name == "Chrome"
    bot = products.botd.data
    assert (bot.bot.result, bot.bot.type) == ("bad", "headlessChrome") and bot.request_id == answer["requestId"]
    assert bot.ip == LONDON_IP and bot.user_agent == UA_CHROME_MAC
    v4 = products.ip_info.data.v4
    assert v4.address == LONDON_IP and v4.geolocation.city.name == "London"
    assert (v4.asn.asn, v4.asn.name, v4.asn.network) == ("20712", "Andrews & Arnold Ltd", "81.2.69.0/24")
    with pytest.raises(KnownApiException) as missing:
        sdk(server, fingerprint_key(server, site)).get_event("1700000000000.nosuch")
    assert missing.value.status == 404 and missing.value.structured_error.error.code == "RequestNotFound"


def test_hosting_networks_are_bad_bots_and_data_centres(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    clean = {"h": "0a1b2c3d", "c": {}}
    home = post(server.url, event(site, type="identification", ffSignals=clean)).json()
    cloud = post(server.url, event(site, type="identification", ffSignals=clean), ip=CLOUD_IP).json()
    api = sdk(server, fingerprint_key(server, site))
    at_home = api.get_event(home["requestId"]).products
    assert at_home.botd.data.bot.result == "notDetected"
    assert (at_home.ip_info.data.v4.datacenter.result, at_home.ip_info.data.v4.datacenter.name) == (False, "")
    in_cloud = api.get_event(cloud["requestId"]).products
    assert (in_cloud.botd.data.bot.result, in_cloud.botd.data.bot.type) == ("bad", "hostingNetwork")
    v4 = in_cloud.ip_info.data.v4
    assert (v4.asn.asn, v4.datacenter.result, v4.datacenter.name) == ("396982", True, "Google Cloud")
    ids = [e.products.identification.data.request_id for e in api.search_events(10, bot="bad").events]
    assert ids == [cloud["requestId"]]
    ids = [e.products.identification.data.request_id for e in api.search_events(10, bot="none").events]
    assert ids == [home["requestId"]]


def test_an_owner_can_name_more_hosting_networks(settings: Settings, city_dbs) -> None:
    extra = settings.replace(geoip_city=str(city_dbs["geoip2"]), geoip_asn=str(city_dbs["asn"]), hosting_asns=(20712,))
    with AppServer(extra) as server:
        site, _ = server.add_site("example.com")
        answer = post(server.url, event(site, type="identification")).json()  # from LONDON_IP, AS20712
        products = sdk(server, fingerprint_key(server, site)).get_event(answer["requestId"]).products
        assert (products.botd.data.bot.result, products.ip_info.data.v4.datacenter.name) == ("bad", "AS20712")


def test_incognito_is_chromiums_private_window_quota(server: AppServer) -> None:
    """Chromium gives private windows a quota below twice the heap limit; without a heap limit
    (other browsers) nothing is claimed."""
    site, _ = server.add_site("example.com")
    api = sdk(server, fingerprint_key(server, site))
    for quota, heap, expected in ((10240, 4096, False), (4000, 4096, True), (100, None, False)):
        signals = {"h": "0a1b2c3d", "c": {}, "q": quota, "m": heap}
        answer = post(server.url, event(site, type="identification", ffSignals=signals)).json()
        assert api.get_event(answer["requestId"]).products.identification.data.incognito is expected


def test_update_event_sets_linked_id_tag_and_suspect(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    answer = post(server.url, event(site, type="identification")).json()
    writer = sdk(server, fingerprint_key(server, site, ("fingerprint:read", "fingerprint:write")))
    writer.update_event(EventsUpdateRequest(linked_id="user-9", tag={"risk": "low"}, suspect=True), answer["requestId"])
    ident = writer.get_event(answer["requestId"]).products.identification.data
    assert (ident.linked_id, ident.tag, ident.suspect) == ("user-9", {"risk": "low"}, True)
    reader = sdk(server, fingerprint_key(server, site))
    with pytest.raises(KnownApiException) as denied:
        reader.update_event(EventsUpdateRequest(suspect=False), answer["requestId"])
    assert denied.value.status == 403 and denied.value.structured_error.error.code == "FeatureNotEnabled"
    url = f"{server.url}/events/{answer['requestId']}"
    key = fingerprint_key(server, site, ("fingerprint:write",))
    bad = httpx.put(url, headers={"Auth-API-Key": key}, content=b'{"suspect": "yes"}')
    assert bad.status_code == 400 and bad.json()["error"] == {
        "code": "RequestCannotBeParsed",
        "message": "request body is not valid",
    }
    assert httpx.get(url).json()["error"]["code"] == "TokenRequired"
    assert httpx.get(url, headers={"Auth-API-Key": "ff_nope"}).json()["error"]["code"] == "TokenNotFound"


def test_delete_visitor_removes_everything_and_the_browser_gets_a_new_id(server: AppServer, recorded) -> None:
    site, visitor, _ = recorded
    api = sdk(server, fingerprint_key(server, site, ("fingerprint:read", "fingerprint:write")))
    num = server.store.read(lambda tx: tx.one("SELECT num FROM visitors WHERE id = ?", (visitor,)))["num"]

    def left() -> list[int]:
        tables = ("identifications", "events", "sessions")
        counts = [f"SELECT COUNT(*) AS n FROM {t} WHERE visitor_num = ?" for t in tables]
        return server.store.read(lambda tx: [tx.one(sql, (num,))["n"] for sql in counts])

    assert left() == [5, 5, 1]
    api.delete_visitor_data(visitor)
    assert api.get_visits(visitor).visits == [] and left() == [0, 0, 0]
    again = post(server.url, event(site, visitorId=visitor)).json()  # the browser still holds the old id
    assert again["visitorId"] != visitor
    with pytest.raises(KnownApiException) as gone:
        api.delete_visitor_data(visitor)
    assert gone.value.status == 404 and gone.value.structured_error.error.code == "VisitorNotFound"


def test_search_events_filters_and_pages_by_timestamp(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    other_site, _ = server.add_site("other.example.com")
    robot = {"wd": True}  # navigator.webdriver, as the tracker reports it
    answers = []
    for i in range(6):
        body = event(site, type="identification", extraData={"linkedId": f"L{i % 2}"})
        if i == 5:
            body["ffAutomation"] = robot
        ip = LONDON_IP if i < 3 else "2001:218::7"
        answers.append(post(server.url, body, ip=ip).json())
        server.clock.advance(seconds=1)
    post(server.url, event(other_site, "https://other.example.com/", type="identification"))
    key = fingerprint_key(server, site)
    api = sdk(server, key)
    newest_first = [a["requestId"] for a in reversed(answers)]

    def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
        return [e.products.identification.data.request_id for e in response.events]

    pages, cursor = [], None
    while True:
        page = api.search_events(2, pagination_key=cursor) if cursor else api.search_events(2)
        pages.append(ids(page))
        cursor = page.pagination_key
        if cursor is None:
            break
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]  # the other site is not here
    assert ids(api.search_events(10, reverse=True)) == list(reversed(newest_first))
    assert ids(api.search_events(10, linked_id="L1")) == [newest_first[0], newest_first[2], newest_first[4]]
    assert ids(api.search_events(10, bot="bad")) == [answers[5]["requestId"]]
    assert ids(api.search_events(10, bot="good")) == []
    assert ids(api.search_events(10, ip_address="81.2.69.0/24")) == newest_first[3:]
    assert ids(api.search_events(10, ip_address="2001:218::/32")) == newest_first[:3]
    assert ids(api.search_events(10, visitor_id=answers[0]["visitorId"])) == [answers[0]["requestId"]]
    start = int(answers[4]["requestId"].split(".")[0])
    assert ids(api.search_events(10, start=start)) == newest_first[:2]
    key = fingerprint_key(server, site)  # a fresh bucket: the calls above used most of the burst of 15
    for params, message in (
        ({"limit": "0"}, "invalid limit"),
        ({"limit": "5", "bot": "robots"}, "invalid bot type"),
        ({"limit": "5", "ip_address": "not-an-ip"}, "invalid ip address"),
        ({"limit": "5", "reverse": "maybe"}, "invalid reverse param"),
        ({"limit": "5", "start": "yesterday"}, "invalid start time"),
    ):
        r = httpx.get(f"{server.url}/events/search", params=params, headers={"Auth-API-Key": key})
        assert r.status_code == 400 and r.json()["error"] == {"code": "RequestCannotBeParsed", "message": message}
