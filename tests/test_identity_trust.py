"""[T2] Never take one person for another (docs/people.md "How sure", docs/identity.md):

- keyless calls (the tracker's identify, PostMetric's keyless identify) are claims: they never
  rename a verified person, never attach a stranger's browser to them, never take over an email an
  imported contact holds, never move a verified person's browser; keyed identify can;
- a browser matched by its device signals is a presumption: never handed the matched visitor's id,
  never in a person's timeline, rows, deliveries or counts, until it confirms itself;
- a device configuration several visitors share never matches;
- email links expire and name only their first browser;
- deliveries and person answers say how the person was identified; a workflow may hold people only
  keyless claims named.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from footfall import accounts
from footfall.settings import Settings
from tests.support import geo_dbs
from tests.support.collect import event, post
from tests.support.receiver import Receiver
from tests.support.servers import AppServer

DEVICE = {"h": "0a1b2c3d", "s": "1a2b3c4d", "c": {"cv": "11aa", "tz": "Europe/London"}, "q": 10240, "m": 4096}
PERSONAL = "track_personal_website_visitors"


class Site:
    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.id, _ = server.add_site("example.com")

        def go(tx: Any) -> str:
            return accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0]

        self.key = server.store.write(go)
        self.auth = {"authorization": f"Bearer {self.key}"}

    def visit(self, path: str = "/", visitor: str | None = None, device: dict[str, Any] | None = None,
              **fields: Any) -> dict[str, Any]:  # fmt: skip
        body = event(self.id, f"https://example.com{path}", **fields)
        if visitor:
            body["visitorId"] = visitor
        if device:
            body["device"] = device
        answer = post(self.server.url, body)
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def keyless_identify(self, visitor: str, **traits: Any) -> None:
        self.visit("/login", visitor, type="identify", extraData=traits)

    def keyed_identify(self, visitor: str, **traits: Any) -> None:
        body = traits | {"datafast_visitor_id": visitor}
        answer = httpx.post(f"{self.server.url}/api/v1/identify?websiteId={self.id}", json=body, headers=self.auth)
        assert answer.status_code == 200, answer.text

    def api(self, path: str, **params: Any) -> Any:
        answer = httpx.get(f"{self.server.url}/api/v1{path}", params={"websiteId": self.id, **params},
                           headers=self.auth)  # fmt: skip
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def people(self) -> dict[str, dict[str, Any]]:
        return {p["userId"] or p["email"] or p["id"]: p for p in self.api("/people", limit=200)}

    def person(self, person_id: str) -> dict[str, Any]:
        return dict(self.api(f"/people/{person_id}"))


@pytest.fixture
def site(server: AppServer) -> Site:
    return Site(server)


def test_a_keyless_call_cannot_rename_a_verified_person(site: Site) -> None:
    alice = site.visit("/")["visitorId"]
    site.keyed_identify(alice, user_id="alice", email="alice@acme.com", name="Alice Real")
    stranger = site.visit("/")["visitorId"]
    site.keyless_identify(stranger, user_id="alice", name="Renamed By Attacker")
    answer = httpx.post(f"{site.server.url}/api/identify",
                        json={"site": site.id, "userId": "alice", "name": "Renamed By Attacker"})  # fmt: skip
    assert answer.status_code == 200
    people = site.people()
    assert people["alice"]["name"] == "Alice Real" and people["alice"]["identification"]["verified"] is True
    claims = [p for p in people.values() if p["identification"]["conflictsWith"] == people["alice"]["id"]]
    assert len(claims) == 1 and claims[0]["identification"]["verified"] is False  # one, kept for a merge
    assert claims[0]["name"] == "Renamed By Attacker" and claims[0]["userId"] is None


def test_a_keyless_call_cannot_attach_a_strangers_browser_to_a_verified_person(site: Site) -> None:
    alice = site.visit("/account")["visitorId"]
    site.keyed_identify(alice, user_id="alice", email="alice@acme.com")
    stranger = site.visit("/attacker-page", visitor=None)["visitorId"]
    site.keyless_identify(stranger, user_id="alice")
    site.keyless_identify(stranger, email="alice@acme.com", user_id="mallory-as-alice")
    alice_id = site.people()["alice"]["id"]
    detail = site.person(alice_id)
    paths = {p["url"] for p in detail["pages"]}
    assert "example.com/attacker-page" not in paths and "example.com/account" in paths
    assert [d["visitorId"] for d in detail["devices"]] == [alice]
    stranger_profile = site.api(f"/visitors/{stranger}")["profile"]
    assert stranger_profile is None or stranger_profile["userId"] != "alice"


def test_a_keyless_call_cannot_pre_claim_an_imported_contacts_email(site: Site) -> None:
    imported = httpx.post(f"{site.server.url}/api/v1/contacts/import?websiteId={site.id}", headers=site.auth,
                          json={"contacts": [{"email": "carol@initech.com", "name": "Carol"}]})  # fmt: skip
    assert imported.status_code == 200
    attacker = site.visit("/")["visitorId"]
    site.keyless_identify(attacker, user_id="made-up", email="carol@initech.com")
    carol = site.visit("/signup")["visitorId"]
    site.keyed_identify(carol, user_id="carol-real", email="carol@initech.com")  # the real sign-up
    people = site.people()
    [contact] = [p for p in people.values() if "carol@initech.com" in p["emails"]]
    assert contact["userIds"] == ["carol-real"] and contact["name"] == "Carol"  # her own, with her history
    assert "made-up" not in contact["userIds"]
    assert {d["visitorId"] for d in site.person(contact["id"])["devices"]} == {carol}


def test_a_keyless_call_cannot_move_a_verified_persons_browser(site: Site) -> None:
    alice = site.visit("/")["visitorId"]
    site.keyed_identify(alice, user_id="alice")
    moved = httpx.post(f"{site.server.url}/api/identify",
                       json={"site": site.id, "userId": "mallory", "visitorId": alice})  # fmt: skip
    assert moved.status_code == 200
    site.visit("/after", alice)
    people = site.people()
    assert site.api(f"/visitors/{alice}")["profile"]["userId"] == "alice"
    assert "example.com/after" in {p["url"] for p in site.person(people["alice"]["id"])["pages"]}
    assert site.person(people["mallory"]["id"])["devices"] == []  # the claim is kept, the browser is not moved
    site.keyed_identify(alice, user_id="mallory")  # the owner's server says so: it can
    assert site.api(f"/visitors/{alice}")["profile"]["userId"] == "mallory"


def test_a_presumed_browser_joins_nobody_until_it_confirms_itself(site: Site) -> None:
    """Alice's browser; then a fresh browser of the same device and network (cleared storage, or
    someone else on that machine) is matched: presumed, never handed her id, never in her
    timeline; when it identifies as Bob it is Bob's browser, and Alice's history is untouched."""
    alice = site.visit("/alice-home", ffSignals=DEVICE)["visitorId"]
    site.keyless_identify(alice, user_id="alice")
    answer = post(site.server.url, event(site.id, "https://example.com/private-page", ffSignals=DEVICE)).json()
    assert answer["visitorId"] != alice and answer["presumed"]["by"] == "device"  # never her id
    fresh = answer["visitorId"]
    assert site.api(f"/visitors/{fresh}")["profile"] is None
    assert site.api(f"/visitors/{fresh}")["resolution"]["presumed"] is True
    alice_person = site.people()["alice"]
    assert "example.com/private-page" not in {p["url"] for p in site.person(alice_person["id"])["pages"]}
    assert alice_person["visitCount"] == 1
    site.keyless_identify(fresh, user_id="bob")
    people = site.people()
    bob = site.person(people["bob"]["id"])
    assert {d["visitorId"] for d in bob["devices"]} == {fresh}
    assert {p["url"] for p in bob["pages"]} == {"example.com/private-page"}  # its presumed visit is its own
    alice_after = site.person(people["alice"]["id"])
    assert {p["url"] for p in alice_after["pages"]} == {"example.com/alice-home"}


def test_a_device_configuration_several_visitors_share_names_nobody(site: Site, server: AppServer) -> None:
    first = site.visit("/", ffSignals=DEVICE)["visitorId"]
    server.clock.advance(seconds=30)
    second = site.visit("/", ffSignals=DEVICE)  # matched: one visitor carries it
    assert second["presumed"]["by"] == "device"
    server.clock.advance(seconds=30)
    site.visit("/", first)  # both browsers alive: two visitors now carry it
    server.clock.advance(seconds=30)
    site.visit("/", second["visitorId"])
    server.clock.advance(seconds=30)
    third = site.visit("/", ffSignals=DEVICE)
    assert "presumed" not in third and third["visitorId"] not in (first, second["visitorId"])


def test_email_links_expire_and_name_only_their_first_browser(site: Site, server: AppServer) -> None:
    link = {"email": "dana@hooli.com", "name": "Dana", "url": "https://example.com/welcome"}
    made = httpx.post(f"{server.url}/api/v1/links?websiteId={site.id}", headers=site.auth, json=link)
    token = made.json()["data"]["token"]
    first = site.visit(f"/welcome?ff_t={token}")["visitorId"]
    assert site.api(f"/visitors/{first}")["profile"]["metadata"]["email"] == "dana@hooli.com"
    forwarded = site.visit(f"/welcome?ff_t={token}")["visitorId"]  # someone the email was forwarded to
    assert site.api(f"/visitors/{forwarded}")["profile"] is None
    again = site.visit(f"/welcome?ff_t={token}", first)["visitorId"]  # the first browser may use it again
    assert again == first
    later = httpx.post(f"{server.url}/api/v1/links?websiteId={site.id}", headers=site.auth,
                       json={"email": "erin@hooli.com"}).json()["data"]["token"]  # fmt: skip
    server.clock.advance(minutes=31 * 24 * 60)  # FOOTFALL_LINK_TOKEN_DAYS is 30
    expired = site.visit(f"/welcome?ff_t={later}")["visitorId"]
    assert site.api(f"/visitors/{expired}")["profile"] is None
    shared = {"link_tokens_shared": True}
    server.store.write(lambda tx: accounts.update_site_settings(tx, site.id, shared))
    fresh = httpx.post(f"{server.url}/api/v1/links?websiteId={site.id}", headers=site.auth,
                       json={"email": "fay@hooli.com"}).json()["data"]["token"]  # fmt: skip
    one, two = (site.visit(f"/welcome?ff_t={fresh}")["visitorId"] for _ in range(2))
    assert {site.api(f"/visitors/{v}")["profile"]["metadata"]["email"] for v in (one, two)} == {"fay@hooli.com"}


def test_deliveries_say_how_and_a_workflow_may_hold_keyless_people(site: Site, server: AppServer) -> None:
    with Receiver() as receiver:
        auth = site.auth
        made = httpx.post(f"{server.url}/api/v1/workflows", headers=auth,
                          json={"name": "crm", "kind": "webhook", "inputs": ["email"], "url": receiver.url + "/in",
                                "hold_unverified": True}).json()["data"]  # fmt: skip
        source = httpx.post(f"{server.url}/api/v1/sources/{PERSONAL}", headers=auth,
                            json={"name": "people", "active_domain": "example.com"}).json()["data"]  # fmt: skip
        httpx.post(f"{server.url}/api/v1/sources/{source['source_instance_id']}/sync", headers=auth,
                   json={"workflow_id": made["id"], "field_mapping": {"input.email": "email"}})  # fmt: skip
        claimed = site.visit("/")["visitorId"]
        site.keyless_identify(claimed, user_id="u-1", email="gus@acme.com")
        rows = httpx.get(f"{server.url}/api/v1/workflows/{made['id']}/deliveries", headers=auth).json()["data"]
        assert [r["status"] for r in rows["rows"]] == ["held"]
        server.clock.advance(seconds=5)
        site.keyed_identify(claimed, user_id="u-1", email="gus@acme.com")  # the owner's server confirms them
        [got] = receiver.wait(1).values()
        assert got.json()["identification"]["verified"] is True
        assert got.json()["identification"]["identifiedBy"] == "api"
        person = site.people()["u-1"]
        routes = [r["route"] for r in person["identification"]["routes"]]
        assert routes == ["identify", "api"] and person["identification"]["by"] == "api"


@pytest.mark.parametrize("kind", ["api", "identify"])
def test_person_answers_say_how_and_when(site: Site, kind: str, settings: Settings) -> None:
    visitor = site.visit("/")["visitorId"]
    if kind == "api":
        site.keyed_identify(visitor, user_id="h-1")
    else:
        site.keyless_identify(visitor, user_id="h-1")
    how = site.people()["h-1"]["identification"]
    assert how["by"] == kind and how["verified"] is (kind == "api") and how["at"] is not None
    assert settings.link_token_days == 30


def test_companies_come_only_from_networks_one_organisation_runs(site: Site) -> None:
    """[T2] The network owner names a company only when it positively is one organisation: a
    university's own network does; a telecom whose name carries "Company", a research and
    education network serving many institutions and an access provider do not."""
    for ip in (geo_dbs.MIT_IP, geo_dbs.TELECOM_IP, geo_dbs.NREN_IP, geo_dbs.ISP_IP):
        post(site.server.url, event(site.id, "https://example.com/pricing"), ip=ip)
    named = [c["name"] for c in site.api("/companies")]
    assert named == ["Massachusetts Institute of Technology"]
