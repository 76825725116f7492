"""Floqer's sources API, workflows and deliveries: contract, errors, rows, and deliveries to a real
receiver on 127.0.0.1 (both stores)."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from footfall import accounts
from footfall.api.floqer import grant
from footfall.settings import Settings
from tests.support.collect import event, post
from tests.support.geo_dbs import MIT_IP
from tests.support.receiver import Receiver
from tests.support.servers import AppServer

PERSONAL = "track_personal_website_visitors"
COMPANY = "track_website_visitors"
ALL = ("sources:read", "sources:write", "workflows:read", "workflows:write", "identify:write", "payments:write")


def account_key(server: AppServer, scopes: tuple[str, ...] = ALL) -> str:
    def go(tx: Any) -> str:
        account, _ = accounts.ensure_account(tx, "test", server.clock.now_ms())
        key, _ = accounts.create_key(tx, account["id"], list(scopes), server.clock.now_ms())
        return key

    return server.store.write(go)


class Floqer:
    def __init__(self, server: AppServer, key: str) -> None:
        self.server, self.key = server, key

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.server.url}/api/v1{path}",
            json=body,
            params=params,
            headers={"authorization": f"Bearer {self.key}"},
            timeout=10,
        )

    def ok(self, method: str, path: str, body: Any = None, expect: int = 200, **params: Any) -> Any:
        response = self(method, path, body, **params)
        assert response.status_code == expect, response.text
        assert response.json()["status"] == expect
        return response.json()["data"]

    def source(self, domain: str = "shop.example.com", kind: str = PERSONAL) -> dict[str, Any]:
        return self.ok("POST", f"/sources/{kind}", {"name": f"{kind} of {domain}", "active_domain": domain}, expect=201)

    def webhook(self, receiver: Receiver, inputs: list[str], **extra: Any) -> dict[str, Any]:
        body = {"name": "to CRM", "kind": "webhook", "inputs": inputs, "url": receiver.url + "/hook"} | extra
        return self.ok("POST", "/workflows", body, expect=201)


@pytest.fixture
def api(server: AppServer) -> Floqer:
    return Floqer(server, account_key(server))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def identify(server: AppServer, api: Floqer, site: str, n: int, path: str = "/pricing", **traits: Any) -> str:
    """A visit of the site, then the visitor identifies (DataFast's identify API)."""
    visitor = post(server.url, event(site, f"https://shop.example.com{path}?utm_source=news&utm_term=crm")).json()
    body = {"user_id": f"u-{n}", "datafast_visitor_id": visitor["visitorId"], **traits}
    answer = httpx.post(
        f"{server.url}/api/v1/identify",
        json=body,
        params={"websiteId": site},
        headers={"authorization": f"Bearer {api.key}"},
    )
    assert answer.status_code == 200, answer.text
    return str(visitor["visitorId"])


def test_preview_and_create_issue_one_pixel_per_domain(server: AppServer, api: Floqer) -> None:
    preview = api.ok("POST", f"/sources/{PERSONAL}/preview", {"active_domain": "shop.example.com"})
    assert preview == {"data": [], "metadata": {"total_results": 0}}
    personal = api.source()
    assert set(personal) == {"source_instance_id", "name", "created_at", "pixel_id", "pixel_script"}
    assert re.fullmatch(r"[0-9a-f-]{36}", personal["source_instance_id"])
    assert personal["pixel_script"] == f'<script defer src="{server.url}/p/{personal["pixel_id"]}.js"></script>'
    assert httpx.get(f"{server.url}/p/{personal['pixel_id']}.js").status_code == 200
    company = api.source(kind=COMPANY)
    assert (
        company["pixel_id"] == personal["pixel_id"] and company["source_instance_id"] != personal["source_instance_id"]
    )
    other = api.source("other.example.org")
    assert other["pixel_id"] != personal["pixel_id"]
    listed = api.ok("GET", "/sources")
    assert [(s["source_id"], s["active_domain"], s["status"]) for s in listed] == [
        (PERSONAL, "shop.example.com", "active"),
        (COMPANY, "shop.example.com", "active"),
        (PERSONAL, "other.example.org", "active"),
    ]


def test_company_preview_shows_the_companies_already_seen(server: AppServer, api: Floqer) -> None:
    site = api.source()["pixel_id"]
    post(server.url, event(site, "https://shop.example.com/"), ip=MIT_IP)  # a business network
    preview = api.ok("POST", f"/sources/{COMPANY}/preview", {"active_domain": "shop.example.com"})
    assert preview["metadata"] == {"total_results": 1}
    [row] = preview["data"]
    assert row["company"] == "Massachusetts Institute of Technology" and row["visitCount"] == 1


@pytest.mark.parametrize(
    ("path", "body", "problems"),
    [
        (f"/sources/{PERSONAL}", {"active_domain": "https://shop.example.com/x", "nme": "typo", "extra": 1}, 4),
        (f"/sources/{PERSONAL}", {"name": " ", "active_domain": "shop"}, 2),
        (f"/sources/{PERSONAL}/preview", {"active_domain": "shop.example.com/path"}, 1),
        (f"/sources/{PERSONAL}/preview", {}, 1),
        ("/workflows", {"name": "", "kind": "email", "inputs": ["First Name"], "url": "ftp://x"}, 4),
        ("/workflows", {"name": "s", "kind": "slack", "inputs": ["a"], "url": "http://127.0.0.1/x"}, 1),
        (
            "/workflows",
            {
                "name": "w",
                "kind": "webhook",
                "inputs": ["a"],
                "url": "https://hooks.example.com/",
                "headers": {"Host": "x"},
            },
            1,
        ),
    ],
)
def test_bad_bodies_list_every_problem_at_once(api: Floqer, path: str, body: dict[str, Any], problems: int) -> None:
    response = api("POST", path, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == 400 and answer["error"] == "Bad Request"
    assert len(answer["errors"]) == problems, answer
    assert all(p["message"] in answer["message"] for p in answer["errors"])


def test_auth_scopes_and_unknown_things(server: AppServer, api: Floqer) -> None:
    missing = httpx.post(f"{server.url}/api/v1/sources/{PERSONAL}", json={})
    assert missing.status_code == 401
    assert missing.json() == {"status": 401, "error": "Unauthorized", "message": "API key is required"}
    wrong = Floqer(server, "ff_nope")("GET", "/sources")
    assert wrong.status_code == 401 and wrong.json()["message"] == "Invalid API key"
    reader = Floqer(server, account_key(server, ("sources:read",)))
    denied = reader("POST", f"/sources/{PERSONAL}", {"name": "x", "active_domain": "shop.example.com"})
    assert denied.status_code == 403
    assert denied.json() == {
        "status": 403,
        "error": "Forbidden",
        "message": "This API key lacks the 'sources:write' scope",
    }
    assert reader("POST", "/workflows", {}).status_code == 403
    unknown = api("POST", "/sources/track_everyone/preview", {"active_domain": "shop.example.com"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "Not Found"
    assert api("GET", "/sources/00000000-0000-4000-8000-000000000000/data").status_code == 404
    source = api.source()["source_instance_id"]
    assert api("GET", f"/sources/{source}/data", page_size=201).status_code == 400
    assert api("PATCH", f"/sources/{source}/status", {"status": "stopped"}).status_code == 400
    site_key = server.add_site("mine.example.com", scopes=("sources:write",))[1]
    elsewhere = Floqer(server, site_key)(
        "POST", f"/sources/{PERSONAL}", {"name": "x", "active_domain": "shop.example.com"}
    )
    assert elsewhere.status_code == 403 and elsewhere.json()["message"] == "This API key belongs to another website"


def test_rate_limit_answers_floqers_429(settings: Settings, city_dbs: Any) -> None:
    with AppServer(settings.replace(floqer_rate_per_minute=3)) as server:
        api = Floqer(server, account_key(server))
        answers = [api("GET", "/sources") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    body = answers[-1].json()
    assert body["status"] == 429 and body["error"] == "Too Many Requests" and body["retryAfter"] >= 1
    assert body["message"] == f"Rate limit exceeded. Try again in {body['retryAfter']} seconds."
    assert answers[-1].headers["retry-after"] == str(body["retryAfter"])
    assert answers[0].headers["x-ratelimit-remaining"] == "2"


def test_credits_when_they_are_counted(settings: Settings, city_dbs: Any) -> None:
    with AppServer(settings.replace(credits_unlimited=False, personal_source_credits=2)) as server:
        api = Floqer(server, account_key(server))
        short = api("POST", f"/sources/{PERSONAL}", {"name": "p", "active_domain": "shop.example.com"})
        assert short.status_code == 402 and short.json()["error"] == "Payment Required"
        assert "costs 2, the balance is 0" in short.json()["message"]
        account = server.store.read(lambda tx: accounts.first_account(tx))["id"]
        server.store.write(lambda tx: grant(tx, account, 3, server.clock.now_ms()))
        api.source()
        assert api.ok("GET", "/credits")["balance"] == 1
        assert api("POST", f"/sources/{PERSONAL}", {"name": "q", "active_domain": "b.example.com"}).status_code == 402
        assert api.source(kind=COMPANY)["pixel_id"]  # company sources cost nothing by default


def test_identified_visitors_become_rows_and_one_delivery_each(
    server: AppServer, api: Floqer, receiver: Receiver
) -> None:
    source = api.source()
    site, source_id = source["pixel_id"], source["source_instance_id"]
    post(server.url, event(site, "https://shop.example.com/"))  # anonymous: no row
    workflow = api.webhook(receiver, ["first_name", "email", "company", "page"], headers={"X-Team": "sales"})
    mapping = {
        "input.first_name": "firstName",
        "{{input.email}}": "email",
        "input.company": "company",
        "input.page": "pageUrl",
    }
    synced = api.ok("POST", f"/sources/{source_id}/sync", {"workflow_id": workflow["id"], "field_mapping": mapping})
    assert synced["rows_pushed"] == 0 and synced["field_mapping"]["input.email"] == "email"
    visitor = identify(server, api, site, 1, email="ada@acme.com", name="Ada Lovelace", title="VP Engineering")
    [row] = api.ok("GET", f"/sources/{source_id}/data")["rows"]
    assert (row["firstName"], row["lastName"], row["email"], row["businessEmail"]) == (
        "Ada",
        "Lovelace",
        "ada@acme.com",
        "ada@acme.com",
    )
    assert (row["title"], row["department"], row["seniority"], row["companyDomain"]) == (
        "VP Engineering",
        "Engineering",
        "VP",
        "acme.com",
    )
    assert row["pageUrl"] == "https://shop.example.com/pricing?utm_source=news&utm_term=crm"
    assert (row["utmSource"], row["utmTerm"], row["personalEmail"]) == ("news", "crm", None)
    [got] = receiver.wait(1).values()
    assert got.json()["inputs"] == {
        "first_name": "Ada",
        "email": "ada@acme.com",
        "company": None,
        "page": row["pageUrl"],
    }
    assert got.headers["x-team"] == "sales" and got.headers["idempotency-key"] == f"{row['id']}:{workflow['id']}"
    t, v1 = (part.split("=", 1)[1] for part in got.headers["x-footfall-signature"].split(","))
    expected = hmac.new(workflow["secret"].encode(), f"{t}.".encode() + got.body, hashlib.sha256).hexdigest()
    assert v1 == expected
    # a later page view updates the row, and is not delivered again
    server.clock.advance(minutes=1)
    body = event(site, "https://shop.example.com/docs", visitorId=visitor, title="Docs")
    post(server.url, body)
    [row] = api.ok("GET", f"/sources/{source_id}/data")["rows"]
    assert row["pageUrl"] == "https://shop.example.com/docs"
    deliveries = f"/workflows/{workflow['id']}/deliveries"
    wait_until(lambda: api.ok("GET", deliveries)["rows"][0]["status"] == "delivered")
    time.sleep(1.5)  # the sender looks every second: nothing more goes out
    [done] = api.ok("GET", deliveries)["rows"]
    assert done["attempts"] == 1 and len(receiver.requests) == 1


def test_sync_validation_and_backfill(server: AppServer, api: Floqer, receiver: Receiver) -> None:
    source = api.source()
    site, source_id = source["pixel_id"], source["source_instance_id"]
    for n in range(12):
        identify(server, api, site, n, email=f"p{n}@example.org")
    assert api.ok("GET", f"/sources/{source_id}/data", page_size=5, page_no=3)["total_count"] == 12
    assert len(api.ok("GET", f"/sources/{source_id}/data", page_size=5, page_no=3)["rows"]) == 2
    workflow = api.webhook(receiver, ["email"])
    bad = api(
        "POST",
        f"/sources/{source_id}/sync",
        {"workflow_id": workflow["id"], "field_mapping": {"input.mail": "email", "input.email": "e-mail"}, "run": "x"},
    )
    assert bad.status_code == 400
    assert [p["code"] for p in bad.json()["errors"]] == ["invalid", "unknown_input", "unknown_field"]
    assert "unknown input 'mail'" in bad.json()["message"]
    missing = api("POST", f"/sources/{source_id}/sync", {"field_mapping": {}, "push": True})
    assert missing.status_code == 400 and {p["field"] for p in missing.json()["errors"]} == {"push", "workflow_id"}
    sync = {"workflow_id": workflow["id"], "field_mapping": {"input.email": "email"}, "run": "first_10"}
    done = api.ok("POST", f"/sources/{source_id}/sync", sync)
    assert (done["rows_pushed"], done["rows_queued"]) == (12, 10)
    kept = receiver.wait(10)
    time.sleep(1.5)  # the sender looks every second: the skipped two never go out
    assert len(receiver.unique()) == 10
    assert {r.json()["inputs"]["email"] for r in kept.values()} == {f"p{n}@example.org" for n in range(10)}
    skipped = api.ok("GET", f"/workflows/{workflow['id']}/deliveries", status="skipped")
    assert skipped["total_count"] == 2
    again = api.ok("POST", f"/sources/{source_id}/sync", sync | {"run": "all"})  # nothing delivered twice
    assert again["rows_queued"] == 12 and len(receiver.unique()) == 10


def test_pausing_stops_rows_and_deliveries_until_resumed(server: AppServer, api: Floqer, receiver: Receiver) -> None:
    source = api.source()
    site, source_id = source["pixel_id"], source["source_instance_id"]
    workflow = api.webhook(receiver, ["email"])
    api.ok(
        "POST", f"/sources/{source_id}/sync", {"workflow_id": workflow["id"], "field_mapping": {"input.email": "email"}}
    )
    identify(server, api, site, 1, email="one@example.org")
    receiver.wait(1)
    paused = api.ok("PATCH", f"/sources/{source_id}/status", {"status": "paused"})
    assert paused["status"] == "paused"
    identify(server, api, site, 2, email="two@example.org")
    assert api.ok("GET", f"/sources/{source_id}/data")["total_count"] == 1  # nothing ingested while paused
    later = api.webhook(receiver, ["email"], url=receiver.url + "/later")  # its backfill waits too
    api.ok(
        "POST", f"/sources/{source_id}/sync", {"workflow_id": later["id"], "field_mapping": {"input.email": "email"}}
    )
    time.sleep(1.5)  # the sender looks every second
    assert [r.path for r in receiver.requests] == ["/hook"]
    api.ok("PATCH", f"/sources/{source_id}/status", {"status": "active"})
    identify(server, api, site, 3, email="three@example.org")
    receiver.wait(4)
    assert sorted(r.path for r in receiver.accepted()) == ["/hook", "/hook", "/later", "/later"]
    rows = api.ok("GET", f"/sources/{source_id}/data")["rows"]
    assert [r["email"] for r in rows] == ["one@example.org", "three@example.org"]


def test_failed_deliveries_back_off_fail_and_replay(settings: Settings, city_dbs: Any, receiver: Receiver) -> None:
    tight = settings.replace(delivery_max_age_hours=0.01, geoip_asn=str(city_dbs["asn"]))  # 36 seconds
    with AppServer(tight) as server:
        api = Floqer(server, account_key(server))
        source = api.source()
        workflow = api.webhook(receiver, ["email"])
        sync = {"workflow_id": workflow["id"], "field_mapping": {"input.email": "email"}}
        api.ok("POST", f"/sources/{source['source_instance_id']}/sync", sync)
        receiver.mode = "fail"
        identify(server, api, source["pixel_id"], 1, email="one@example.org")
        deliveries = f"/workflows/{workflow['id']}/deliveries"

        def state() -> dict[str, Any]:
            [row] = api.ok("GET", deliveries)["rows"]
            return dict(row)

        wait_until(lambda: state()["attempts"] == 1)  # the first attempt opens a 36-second window
        for _ in range(4):  # each retry waits (1 s, 2 s... jittered); past the window it fails
            tried = len(receiver.requests)
            server.clock.advance(seconds=30)
            wait_until(lambda tried=tried: state()["attempts"] == tried + 1 or state()["status"] == "failed")
            if state()["status"] == "failed":
                break
        [failed] = api.ok("GET", deliveries)["rows"]
        assert (failed["status"], failed["attempts"], failed["last_status"]) == ("failed", 3, 500)
        assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1
        receiver.mode = "ok"
        replayed = api.ok("POST", f"{deliveries}/{failed['id']}/replay")
        assert replayed["status"] == "pending"
        receiver.wait(1)
        wait_until(lambda: api.ok("GET", deliveries)["rows"][0]["status"] == "delivered")


def wait_until(check: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_slack_workflow_gets_the_template_filled(server: AppServer, api: Floqer, receiver: Receiver) -> None:
    source = api.source()
    slack = api.ok(
        "POST",
        "/workflows",
        {
            "name": "alerts",
            "kind": "slack",
            "inputs": ["name", "page"],
            "url": receiver.url + "/services/T000/B000/XXX",
            "template": ":eyes: {{input.name}} is on {{ input.page }}",
        },
        expect=201,
    )
    mapping = {"input.name": "firstName", "input.page": "pageUrl"}
    api.ok(
        "POST", f"/sources/{source['source_instance_id']}/sync", {"workflow_id": slack["id"], "field_mapping": mapping}
    )
    identify(server, api, source["pixel_id"], 1, name="Grace Hopper")
    [got] = receiver.wait(1).values()
    assert got.path == "/services/T000/B000/XXX"
    # Slack shows &amp; as & (its text is escaped: docs/workflows.md)
    assert got.json() == {
        "text": ":eyes: Grace is on https://shop.example.com/pricing?utm_source=news&amp;utm_term=crm"
    }


def test_workflow_crud(api: Floqer, receiver: Receiver) -> None:
    made = api.webhook(receiver, ["email", "name"])
    assert made["secret"].startswith("whsec_") and made["has_secret"] is True
    assert api.ok("GET", "/workflows")[0]["id"] == made["id"] and "secret" not in api.ok("GET", "/workflows")[0]
    source = api.source()["source_instance_id"]
    api.ok("POST", f"/sources/{source}/sync", {"workflow_id": made["id"], "field_mapping": {"input.email": "email"}})
    assert api.ok("GET", f"/workflows/{made['id']}")["syncs"][0]["field_mapping"] == {"input.email": "email"}
    in_use = api("PATCH", f"/workflows/{made['id']}", {"inputs": ["name"]})
    assert in_use.status_code == 400 and "mapped by a sync: email" in in_use.json()["message"]
    renamed = api.ok("PATCH", f"/workflows/{made['id']}", {"name": "renamed", "inputs": ["email", "title"]})
    assert (renamed["name"], renamed["inputs"]) == ("renamed", ["email", "title"])
    assert api("PATCH", f"/workflows/{made['id']}", {"kind": "slack"}).status_code == 400
    assert api.ok("DELETE", f"/workflows/{made['id']}") == {"id": made["id"], "deleted": True}
    assert api("GET", f"/workflows/{made['id']}").status_code == 404


def test_company_rows_from_business_email_and_network(server: AppServer, api: Floqer) -> None:
    company = api.source(kind=COMPANY)
    site, source_id = company["pixel_id"], company["source_instance_id"]
    post(server.url, event(site, "https://shop.example.com/"))  # an ISP visitor: no company
    post(server.url, event(site, "https://shop.example.com/pricing"), ip=MIT_IP)
    identify(server, api, site, 1, email="ada@acme.com", company="Acme")
    identify(server, api, site, 2, email="bob@acme.com", path="/docs")
    identify(server, api, site, 3, email="cy@gmail.com")  # personal email: no company
    rows = {r["company"]: r for r in api.ok("GET", f"/sources/{source_id}/data")["rows"]}
    assert set(rows) == {"Massachusetts Institute of Technology", "Acme"}
    acme = rows["Acme"]
    assert (acme["companyDomain"], acme["identifiedPeopleCount"], acme["visitCount"]) == ("acme.com", 2, 2)
    assert acme["visitedPages"] == ["/docs", "/pricing"]
    mit = rows["Massachusetts Institute of Technology"]
    assert (mit["companyDomain"], mit["identifiedPeopleCount"], mit["visitCount"]) == (None, 0, 1)
