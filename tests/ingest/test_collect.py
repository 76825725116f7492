"""POST /api/events, /api/events/batch and GET /api/events.gif against the real server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from footfall import accounts
from footfall.filtered import flush
from footfall.ids import VisitorSigner, is_uuid
from tests.support.collect import EVENTS, event, post
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer


def stored(server: AppServer, sql: str, *params: object) -> list[dict[str, object]]:
    return server.store.read(lambda tx: tx.all(sql, params))


def test_accepted_event_is_committed_and_enriched(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    r = post(
        server.url,
        event(
            site,
            "https://example.com/pricing?utm_source=google&utm_medium=cpc&gclid=g1",
            referrer="https://www.google.com/search?q=x",
            viewport={"width": 390, "height": 844},
            language="en-GB",
            timezone="Europe/London",
        ),
        ua=UA_IPHONE,
    )
    assert r.status_code == 202
    body = r.json()
    assert set(body) == {"visitorId", "sessionId", "requestId"}
    assert is_uuid(body["visitorId"]) and body["sessionId"].startswith("s") and len(body["sessionId"]) == 37
    ms, _, tail = body["requestId"].partition(".")
    assert ms.isdigit() and len(tail) == 6 and tail.isalnum()
    [row] = stored(server, EVENTS + " WHERE e.request_id = ?", body["requestId"])
    assert row["visitor_id"] == body["visitorId"] and row["path"] == "/pricing"
    assert (row["browser"], row["os"], row["device_type"], row["device_vendor"]) == (
        "Mobile Safari",
        "iOS",
        "mobile",
        "Apple",
    )
    assert (row["country_code"], row["city"], row["region"]) == ("GB", "London", "England")
    assert (row["asn"], row["as_organization"]) == (20712, "Andrews & Arnold Ltd")
    assert (row["referrer_source"], row["channel"]) == ("Google", "Paid Search")
    assert row["params"] == '{"utm_source":"google","utm_medium":"cpc"}' and row["click_ids"] == '{"gclid":"g1"}'


def test_returned_visitor_id_is_signed_for_the_site(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    other, _ = server.add_site("other.com")
    vid = post(server.url, event(site)).json()["visitorId"]
    signer = server.app.state.components.signer
    assert signer.verify(site, vid) and not signer.verify(other, vid)


def test_signed_id_sent_back_continues_the_visitor(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    first = post(server.url, event(site)).json()
    again = post(server.url, event(site, "https://example.com/b", visitorId=first["visitorId"])).json()
    assert again["visitorId"] == first["visitorId"] and again["sessionId"] == first["sessionId"]


@pytest.mark.parametrize("forge", ["tampered", "foreign_secret", "other_site"])
def test_forged_visitor_id_never_joins_another_history(server: AppServer, forge: str) -> None:
    site, _ = server.add_site("example.com")
    other, _ = server.add_site("other.com")
    victim = post(server.url, event(site)).json()["visitorId"]
    forged = {
        "tampered": victim[:-1] + ("0" if victim[-1] != "0" else "1"),
        "foreign_secret": VisitorSigner(b"someone else's secret").new(site),
        "other_site": post(server.url, event(other, "https://other.com/")).json()["visitorId"],
    }[forge]
    attacker = post(server.url, event(site, "https://example.com/evil", visitorId=forged)).json()["visitorId"]
    assert attacker != victim
    assert attacker != forged  # an id that does not verify is never used as a visitor id
    paths = [r["path"] for r in stored(server, EVENTS + " WHERE v.id = ?", victim)]
    assert paths == ["/"]


def test_victims_id_sent_unsigned_cannot_reach_signed_history(server: AppServer) -> None:
    """The client-id namespace is separate: the same string as a client id maps elsewhere."""
    site, _ = server.add_site("example.com")
    victim = post(server.url, event(site)).json()["visitorId"]
    upper = victim.upper()  # verifies too (same UUID): ownership of the id is what a cookie gives
    assert post(server.url, event(site, visitorId=upper)).json()["visitorId"] == victim
    junk = "not-a-uuid-but-a-client-id"
    a = post(server.url, event(site, visitorId=junk)).json()["visitorId"]
    b = post(server.url, event(site, "https://example.com/2", visitorId=junk)).json()["visitorId"]
    assert a == b != victim


def test_client_generated_ids_get_consistent_visitors(server: AppServer) -> None:
    """DataFast's SDK makes its own UUIDs; each stays one visitor, readable by that id."""
    site, key = server.add_site("example.com")
    client_id = "6f1c2a34-1b2c-4d5e-8f90-123456789abc"
    ids = {
        post(server.url, event(site, f"https://example.com/{i}", visitorId=client_id)).json()["visitorId"]
        for i in range(3)
    }
    assert len(ids) == 1
    r = httpx.get(f"{server.url}/api/v1/visitors/{client_id}", headers={"authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["data"]["activity"]["pageViewCount"] == 3


def test_cross_domain_signed_id_joins_the_visitor(server: AppServer) -> None:
    site, _ = server.add_site("example.com", allowed_hostnames=("example.org",))
    vid = post(server.url, event(site)).json()["visitorId"]
    landed = post(server.url, event(site, f"https://example.org/welcome?_df_vid={vid}&_df_sid=sx")).json()
    assert landed["visitorId"] == vid
    forged = post(server.url, event(site, "https://example.org/x?_df_vid=" + vid[:-2] + "00")).json()
    assert forged["visitorId"] != vid


def test_sessions_end_after_thirty_idle_minutes(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    first = post(server.url, event(site)).json()
    server.clock.advance(minutes=29)
    same = post(server.url, event(site, visitorId=first["visitorId"])).json()
    server.clock.advance(minutes=31)
    later = post(server.url, event(site, visitorId=first["visitorId"])).json()
    assert same["sessionId"] == first["sessionId"] != later["sessionId"]
    [v] = stored(
        server,
        "SELECT COUNT(*) AS visits, SUM(s.pageviews) AS pageviews FROM sessions s "
        "JOIN visitors v ON v.num = s.visitor_num WHERE v.id = ?",
        first["visitorId"],
    )
    assert (v["visits"], v["pageviews"]) == (2, 3)


def test_a_new_campaign_starts_a_new_session(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    first = post(server.url, event(site, "https://example.com/?utm_source=news&utm_campaign=a")).json()
    inside = post(server.url, event(site, "https://example.com/next", visitorId=first["visitorId"])).json()
    other = post(
        server.url, event(site, "https://example.com/?utm_source=news&utm_campaign=b", visitorId=first["visitorId"])
    ).json()
    assert first["sessionId"] == inside["sessionId"] != other["sessionId"]


def _drop_count(server: AppServer, reason: str) -> int:
    """Counted in memory on the collect path, flushed to `filtered` (here at once)."""
    c = server.app.state.components
    flush(server.store, c.filtered, c.clock)
    rows = stored(server, "SELECT SUM(count) AS n FROM filtered WHERE reason = ?", reason)
    return int(rows[0]["n"] or 0)


@pytest.mark.parametrize(
    ("reason", "mutate"),
    [
        ("unknown_site", lambda e, h: e.update(websiteId="000000000000000000000000")),
        ("hostname_not_allowed", lambda e, h: e.update(href="https://evil.example.net/")),
        (
            "bot",
            lambda e, h: h.update(
                {"user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
            ),
        ),
        ("opted_out", lambda e, h: h.update({"sec-gpc": "1"})),
        ("opted_out", lambda e, h: e.update(gpc=True)),  # the tracker's flag (scripts cannot send Sec-GPC)
    ],
)
def test_each_drop_reason_answers_202_names_it_and_counts_it(server: AppServer, reason: str, mutate) -> None:
    site, _ = server.add_site("example.com")
    server.store.write(
        lambda tx: tx.execute("UPDATE sites SET settings = ? WHERE id = ?", ('{"respect_gpc": true}', site))
    )
    body, headers = event(site), {}
    mutate(body, headers)
    before = stored(server, "SELECT COUNT(*) AS n FROM events")[0]["n"]
    r = post(
        server.url, body, **({"ua": headers.pop("user-agent")} if "user-agent" in headers else {}), headers=headers
    )
    assert r.status_code == 202 and r.headers["x-footfall-dropped"] == reason
    assert r.json() == {"dropped": reason}
    assert stored(server, "SELECT COUNT(*) AS n FROM events")[0]["n"] == before
    assert _drop_count(server, reason) == 1


def test_subdomains_of_the_site_are_allowed(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    assert "x-footfall-dropped" not in post(server.url, event(site, "https://app.example.com/")).headers


def test_gpc_is_ignored_when_the_site_does_not_honour_it(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    r = post(server.url, event(site), headers={"sec-gpc": "1"})
    assert "x-footfall-dropped" not in r.headers and "visitorId" in r.json()
    r = post(server.url, event(site, gpc=True, dnt=True))
    assert "x-footfall-dropped" not in r.headers and "visitorId" in r.json()


def test_privacy_flags_in_a_batch_drop_only_their_own_event(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"respect_dnt": True}))
    r = post(server.url, [event(site), event(site, dnt=True)], path="/api/events/batch")
    assert r.json()["accepted"] == 1 and r.json()["events"][1] == {"dropped": "opted_out"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"href": "https://example.com/"}', "websiteId"),
        (b'{"websiteId": 5, "href": "https://example.com/"}', "websiteId"),
        (b'{"websiteId": "x", "href": "ftp://example.com/"}', "href"),
        (b'{"websiteId": "x", "href": "https://example.com/", "type": "weird"}', "type"),
        (b'{"websiteId": "x", "href": "https://example.com/", "viewport": {"width": -5}}', "viewport.width"),
        (
            b'{"websiteId": "x", "href": "https://example.com/", "type": "custom", '
            b'"extraData": {"eventName": "Bad Name"}}',
            "extraData.eventName",
        ),
        (b'{"websiteId": "x", "href": "https://example.com/", "type": "identify", "extraData": {}}', "user_id"),
        (
            b'{"websiteId": "x", "href": "https://example.com/", "type": "payment", "extraData": {"amount": 5}}',
            "stripe_session_id",
        ),
        (b'{"websiteId": "x", "href": "https://example.com/", "device": {"h": "XYZ", "c": {}}}', "device.h"),
        (b'{"websiteId": "x", "href": "https://example.com/", "ffSignals": {"c": {}}}', "ffSignals"),
    ],
)
def test_malformed_bodies_get_400_naming_the_field(server: AppServer, body: bytes, field: str) -> None:
    r = httpx.post(server.url + "/api/events", content=body, headers={"user-agent": "Mozilla/5.0 (X11) Firefox/1"})
    assert r.status_code == 400
    assert r.json()["status"] == "error" and r.json()["error"]["code"] == 400
    assert field in r.json()["error"]["message"]


def test_oversized_bodies_get_413(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    huge = event(site, title="x" * 2_000_000)
    assert post(server.url, huge).status_code == 413


def test_bodies_sent_in_chunks_are_read_whole_and_limited_without_a_declared_length(server: AppServer) -> None:
    """Transfer-Encoding: chunked, no Content-Length: the body arrives in several ASGI messages."""
    site, _ = server.add_site("example.com")
    body = json.dumps(event(site, "https://example.com/chunked")).encode()

    def pieces(data: bytes, size: int) -> Iterator[bytes]:
        yield from (data[i : i + size] for i in range(0, len(data), size))

    headers = {"user-agent": UA_CHROME_MAC, "content-type": "application/json"}
    r = httpx.post(server.url + "/api/events", content=pieces(body, 7), headers=headers)
    assert r.status_code == 202
    assert [row["path"] for row in stored(server, EVENTS + " WHERE st.id = ?", site)] == ["/chunked"]
    huge = json.dumps(event(site, title="x" * 2_000_000)).encode()
    assert httpx.post(server.url + "/api/events", content=pieces(huge, 65_536), headers=headers).status_code == 413


def test_batch_stores_every_event_and_reports_each(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    events = [event(site, f"https://example.com/p{i}") for i in range(50)] + [event("f" * 24)]
    r = post(server.url, {"events": events}, path="/api/events/batch")
    assert r.status_code == 202
    body = r.json()
    assert (body["accepted"], body["dropped"]) == (50, 1) and body["events"][-1] == {"dropped": "unknown_site"}
    paths = {row["path"] for row in stored(server, EVENTS + " WHERE st.id = ?", site)}
    assert paths == {f"/p{i}" for i in range(50)}


def test_batch_with_a_bad_event_stores_nothing_and_names_it(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    events = [event(site), event(site, "not a url")]
    r = post(server.url, events, path="/api/events/batch")
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("events[1].href")
    assert stored(server, "SELECT COUNT(*) AS n FROM events")[0]["n"] == 0


def test_batch_over_the_limit_is_413(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    assert post(server.url, [event(site)] * 501, path="/api/events/batch").status_code == 413


def test_gif_fallback_records_the_page_from_the_referer(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    r = httpx.get(
        f"{server.url}/api/events.gif",
        params={"websiteId": site},
        headers={"referer": "https://example.com/noscript", "user-agent": UA_IPHONE},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/gif" and r.content.startswith(b"GIF89a")
    assert [row["path"] for row in stored(server, "SELECT path FROM events")] == ["/noscript"]


def test_cors_preflight_and_response_headers(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    pre = httpx.options(
        server.url + "/api/events",
        headers={
            "origin": "https://example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "https://example.com"
    r = post(server.url, event(site), headers={"origin": "https://example.com"})
    assert r.headers["access-control-allow-origin"] == "https://example.com"


def test_forwarded_ip_is_ignored_from_untrusted_peers(server: AppServer, settings) -> None:
    with AppServer(
        settings.replace(trusted_proxies=(), geoip_city=server.app.state.components.geo.paths[0].as_posix())
    ) as other:
        site, _ = other.add_site("example.com")
        r = post(other.url, event(site))
        [row] = other.store.read(
            lambda tx: tx.all("SELECT e.ip, s.country_code FROM events e JOIN sessions s ON s.num = e.session_num")
        )
        assert r.status_code == 202 and row == {"ip": "127.0.0.1", "country_code": None}


def test_identification_events_answer_visitor_found_and_are_recorded(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    signals = {"h": "0a1b2c3d", "c": {"tz": "UTC"}, "q": 120}
    headless = {"wd": False, "b": "HeadlessChrome/126,Chromium/126"}  # on a site that keeps automated traffic
    first = post(
        server.url,
        event(site, type="identification", ffSignals=signals, ffAutomation=headless, extraData={"linkedId": "u1"}),
    )
    assert first.status_code == 202
    body = first.json()
    assert body["visitorFound"] is False and body["confidence"] == {"score": 1.0}
    again = post(server.url, event(site, type="identification", visitorId=body["visitorId"])).json()
    assert again["visitorFound"] is True and again["visitorId"] == body["visitorId"]
    plain = post(server.url, event(site, visitorId=body["visitorId"])).json()
    assert set(plain) == {"visitorId", "sessionId", "requestId"}  # page views answer as DataFast's
    rows = sorted(stored(server, "SELECT * FROM identifications"), key=lambda r: r["visitor_found"])
    assert [(r["request_id"], r["visitor_found"]) for r in rows] == [(body["requestId"], 0), (again["requestId"], 1)]
    assert (rows[0]["linked_id"], rows[0]["device_hash"], rows[0]["quota_mb"]) == ("u1", "0a1b2c3d", 120)
    assert (rows[0]["webdriver"], rows[0]["headless"]) == (0, 1) and rows[1]["device_hash"] is None
    bad = post(server.url, event(site, type="identification", extraData={"linkedId": 5}))
    assert bad.status_code == 400 and "extraData.linkedId" in bad.json()["error"]["message"]


def test_a_cached_0_1_0_tracker_still_sends_its_signals_as_device(server: AppServer) -> None:
    """Browsers that cached 0.1.0's script send footfall's signals under `device`; they keep counting,
    while DataFast's SDK's `device` ({platform, osVersion, model}) is read as its app."""
    site, _ = server.add_site("example.com")
    old = {"h": "0a1b2c3d", "c": {"tz": "UTC"}, "q": 120, "a": {"wd": False, "hl": False}}
    assert post(server.url, event(site, type="identification", device=old)).status_code == 202
    [row] = stored(server, "SELECT device_hash, quota_mb FROM identifications")
    assert (row["device_hash"], row["quota_mb"]) == ("0a1b2c3d", 120)
    broken = post(server.url, event(site, device={"h": 5}))
    assert broken.status_code == 400 and "device" in broken.json()["error"]["message"]
    app = post(server.url, event(site, device={"platform": "android", "osVersion": 14, "model": "Pixel 8"}))
    assert app.status_code == 400 and "device.osVersion: a string" in app.json()["error"]["message"]
