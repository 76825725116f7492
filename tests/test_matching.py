"""Device matching: a browser without its id comes back to its visitor by device signals and network,
gets an id of its own (an alias: it is never handed the visitor's id, and is only presumed to be
it), and stands alone again once both are seen alive side by side."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.collect import event, post
from tests.support.fingerprint import fingerprint_key, sdk
from tests.support.servers import UA_CHROME_MAC, AppServer

UA_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0"
UA_CHROME_MAC_NEWER = UA_CHROME_MAC.replace("Chrome/126.0.0.0", "Chrome/127.0.0.0")
NEIGHBOUR_IP = "81.2.69.12"  # the same /24 as LONDON_IP
ELSEWHERE_IP = "81.2.70.5"


def signals(h: str = "0a1b2c3d", s: str = "c0c0c0c0", **extra: Any) -> dict[str, Any]:
    components = {"cv": "11aa22bb", "tz": "Europe/London", "hc": 8}
    return {"h": h, "s": s, "c": components, "q": 10240, "m": 4096, **extra}


def identify(server: AppServer, site: str, visitor: str | None = None, **kw: Any) -> dict[str, Any]:
    """A footfall('device') call as the tracker sends it, with the browser's stored id (if any)."""
    device = kw.pop("device", signals())
    body = event(site, kw.pop("href", "https://example.com/"), type="identification", ffSignals=device)
    if visitor:
        body["visitorId"] = visitor
    response = post(server.url, body, **kw)
    assert response.status_code == 202, response.text
    return response.json()


@pytest.fixture
def site_and_key(server: AppServer) -> tuple[str, str]:
    return server.add_site("example.com")


@pytest.fixture
def site(site_and_key: tuple[str, str]) -> str:
    return site_and_key[0]


def datafast_visitor(server: AppServer, key: str, visitor_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/v1/visitors/{visitor_id}", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_browser_that_cleared_its_storage_is_its_visitor_again(server: AppServer, site: str) -> None:
    first = identify(server, site)
    assert first["visitorFound"] is False and first["confidence"] == {"score": 1.0} and "browserId" not in first
    server.clock.advance(minutes=5)
    again = identify(server, site)  # no id: storage cleared
    assert again["visitorFound"] is True and again["presumed"] == {"by": "device", "confidence": 0.99}
    assert again["confidence"]["score"] == 0.99  # same signature, same IP, same user agent, within a day
    own = again["browserId"]
    assert again["visitorId"] == own != first["visitorId"]  # its own id, never the matched visitor's
    server.clock.advance(minutes=5)
    later = identify(server, site, own)  # the id it stored: still presumed that visitor, with the match's confidence
    assert later["visitorId"] == own and later["presumed"]["confidence"] == 0.99
    visits = sdk(server, fingerprint_key(server, site)).get_visits(first["visitorId"])
    assert [v.request_id for v in visits.visits] == [later["requestId"], again["requestId"], first["requestId"]]
    assert sdk(server, fingerprint_key(server, site)).get_visits(own).visitor_id == first["visitorId"]


def test_confidence_reflects_network_and_agent_changes(server: AppServer, site: str) -> None:
    first = identify(server, site)
    server.clock.advance(minutes=60 * 30)  # more than a day later
    moved = identify(server, site, ip=NEIGHBOUR_IP, ua=UA_CHROME_MAC_NEWER)  # same /24, browser updated
    assert moved["visitorFound"] is True and moved["confidence"]["score"] == 0.9 and "presumed" in moved
    assert sdk(server, fingerprint_key(server, site)).get_visits(moved["visitorId"]).visitor_id == first["visitorId"]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"ip": ELSEWHERE_IP}, "another network"),
        ({"ua": UA_FIREFOX}, "another browser family"),
        ({"device": signals("ffff0000", "ffff0000")}, "another device signature"),
        ({"minutes": 31 * 24 * 60}, "outside the 30-day window"),
    ],
)
def test_no_match_without_the_same_device_network_and_browser(
    server: AppServer, site: str, change: dict[str, Any], why: str
) -> None:
    first = identify(server, site)
    server.clock.advance(minutes=change.get("minutes", 1))
    other = identify(server, site, **{k: v for k, v in change.items() if k != "minutes"})
    assert other["visitorId"] != first["visitorId"], why
    assert other["visitorFound"] is False and "browserId" not in other


def test_a_changed_canvas_or_audio_still_matches_on_the_core_signature(server: AppServer, site: str) -> None:
    """Some browsers add noise to canvas and audio: the full signature differs, the core one not."""
    first = identify(server, site)
    server.clock.advance(minutes=1)
    noisy = identify(server, site, device=signals("99999999"))
    assert noisy["visitorFound"] is True and noisy["confidence"]["score"] == 0.94  # 0.85 + 0.09
    assert noisy["visitorId"] != first["visitorId"]


def test_matching_stays_inside_one_site(server: AppServer, site: str) -> None:
    other_site, _ = server.add_site("example.org")
    first = identify(server, site)
    elsewhere = identify(server, other_site, href="https://example.org/")
    assert elsewhere["visitorFound"] is False and elsewhere["visitorId"] != first["visitorId"]


def test_two_live_browsers_split_and_then_never_merge(server: AppServer, site: str) -> None:
    """Two profiles of one machine: the second's first request looks exactly like cleared storage,
    so it is matched; once the first profile shows its own id again and the second its own, they are
    two browsers, and the second's history (its first request included) leaves the first visitor."""
    a = identify(server, site)
    server.clock.advance(seconds=10)
    b_first = identify(server, site)
    assert b_first["visitorFound"] is True and "presumed" in b_first
    b_id = b_first["browserId"]
    server.clock.advance(seconds=10)
    assert identify(server, site, a["visitorId"])["visitorId"] == a["visitorId"]  # A alive
    server.clock.advance(seconds=10)
    b_again = identify(server, site, b_id)  # B alive too: two storages at once
    assert b_again["visitorId"] == b_id and b_again["confidence"] == {"score": 1.0} and "presumed" not in b_again
    api = sdk(server, fingerprint_key(server, site))
    assert {v.request_id for v in api.get_visits(b_id).visits} == {b_first["requestId"], b_again["requestId"]}
    assert b_first["requestId"] not in {v.request_id for v in api.get_visits(a["visitorId"]).visits}
    assert api.get_event(b_first["requestId"]).products.identification.data.visitor_id == b_id
    # Each keeps its own id from now on...
    server.clock.advance(seconds=10)
    assert identify(server, site, a["visitorId"])["visitorId"] == a["visitorId"]
    assert identify(server, site, b_id)["visitorId"] == b_id
    # ...and a third request without an id matches both equally: nothing is merged.
    server.clock.advance(seconds=10)
    third = identify(server, site)
    assert third["visitorId"] not in (a["visitorId"], b_id)
    assert third["visitorFound"] is False and third["confidence"] == {"score": 0.33}  # one of two, or new


def test_an_alias_whose_visitor_never_returns_stays_linked(server: AppServer, site: str) -> None:
    """Cleared storage: the old id is gone for good, so the new one keeps counting for the visitor."""
    a = identify(server, site)
    for _ in range(3):
        server.clock.advance(minutes=10)
        b = identify(server, site)
    own = b["browserId"]
    for _ in range(3):
        server.clock.advance(minutes=10)
        assert "presumed" in identify(server, site, own)  # still counting for the visitor it matched
    api = sdk(server, fingerprint_key(server, site))
    assert api.get_visits(own).visitor_id == a["visitorId"]


def test_deleting_a_visitor_deletes_its_aliases(server: AppServer, site: str) -> None:
    a = identify(server, site)
    server.clock.advance(minutes=1)
    own = identify(server, site)["browserId"]
    api = sdk(server, fingerprint_key(server, site, ("fingerprint:read", "fingerprint:write")))
    api.delete_visitor_data(a["visitorId"])
    assert api.get_visits(a["visitorId"]).visits == [] and api.get_visits(own).visits == []
    server.clock.advance(minutes=1)
    after = identify(server, site, own)  # the alias id is on the deny list, and nothing is left to match
    assert after["visitorId"] not in (a["visitorId"], own) and after["visitorFound"] is False
    left = server.store.read(
        lambda tx: tx.one("SELECT COUNT(*) AS n FROM visitors WHERE id IN (?, ?)", (a["visitorId"], own))
    )
    assert left["n"] == 0


def test_page_views_of_a_matched_browser_count_for_the_visitor(
    server: AppServer, site_and_key: tuple[str, str]
) -> None:
    site, key = site_and_key
    first = post(server.url, event(site, "https://example.com/a", ffSignals=signals())).json()
    server.clock.advance(minutes=40)  # a new session
    second = post(server.url, event(site, "https://example.com/b", ffSignals=signals())).json()
    assert second["visitorId"] == second["browserId"] != first["visitorId"] and "presumed" in second
    view = datafast_visitor(server, key, second["browserId"])
    assert view["visitorId"] == first["visitorId"]
    assert [p["url"] for p in view["activity"]["visitedPages"]] == ["example.com/a", "example.com/b"]
    assert view["activity"]["visitCount"] == 2 and view["activity"]["pageViewCount"] == 2
    assert datafast_visitor(server, key, first["visitorId"])["activity"] == view["activity"]


def test_a_split_browser_takes_its_presumed_visits_away_from_the_person(
    server: AppServer, site_and_key: tuple[str, str]
) -> None:
    """Profile A signs in as Alice; profile B (same machine) is first taken for A, so its visit is
    presumed Alice's; once both are seen alive, B's visit leaves Alice."""
    site, key = site_and_key
    a = post(server.url, event(site, "https://example.com/a", ffSignals=signals())).json()["visitorId"]
    post(server.url, event(site, "https://example.com/a", type="identify", visitorId=a, extraData={"user_id": "alice"}))
    server.clock.advance(seconds=10)
    b = post(server.url, event(site, "https://example.com/b-landing", ffSignals=signals())).json()["browserId"]
    server.clock.advance(seconds=10)
    post(server.url, event(site, "https://example.com/a-again", visitorId=a))
    server.clock.advance(seconds=10)
    answer = post(server.url, event(site, "https://example.com/b-again", visitorId=b)).json()
    assert answer["visitorId"] == b  # split
    people = httpx.get(
        f"{server.url}/api/v1/people", params={"websiteId": site}, headers={"authorization": f"Bearer {key}"}
    )
    [alice] = people.json()["data"]
    detail = httpx.get(
        f"{server.url}/api/v1/people/{alice['id']}",
        params={"websiteId": site},
        headers={"authorization": f"Bearer {key}"},
    ).json()["data"]
    assert [p["url"] for p in detail["pages"]] == ["example.com/a", "example.com/a-again"]
