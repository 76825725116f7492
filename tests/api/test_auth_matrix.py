"""Every keyed endpoint x {no key, wrong key, revoked key, wrong scope, another site's key, another
account's key}: the right status in the right dialect's envelope; and nothing another account holds
ever appears in an answer.

The endpoints come from the app's own OpenAPI document (plus Fingerprint's routes), so a new
endpoint is covered the day it is added. The scope each one needs is found by probing with keys
of one scope each; every other scope must be refused.
"""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from footfall import accounts
from footfall.sources import PERSONAL
from tests.support.collect import event, post
from tests.support.servers import AppServer

FINGERPRINT = [("GET", "/events/search"), ("GET", "/visitors/{visitor_id}"), ("DELETE", "/visitors/{visitor_id}"),
               ("GET", "/events/{request_id}"), ("PUT", "/events/{request_id}"),
               ("GET", "/related-visitors?visitor_id={visitor_id}")]  # fmt: skip
# not keyed: payment webhooks are signed by the provider; PostMetric's identify is the tracker's
# public call (like collect)
NOT_KEYED = ("/api/webhooks/", "/api/identify")
# answers about the key's own account or site, whichever key asks (a site key reaches its account's
# workflows; Fingerprint's search looks in the key's own site)
ACCOUNT_LEVEL = re.compile(r"^(/api/v1/(workflows|credits|sources$|sources/\{source_id\}(/preview)?$)|/events/search$)")
# DataFast's account admin: account tokens only (a website key is refused whatever its scopes)
ADMIN = "/api/v1/admin/"


def dialect(path: str) -> str:
    if not path.startswith("/api/"):
        return "fingerprint"
    if path.startswith(("/api/v1/sources", "/api/v1/workflows", "/api/v1/credits")):
        return "floqer"
    return "datafast"  # PostMetric's API answers in the same envelope


def check_envelope(answer: httpx.Response, kind: str, where: str) -> None:
    body = answer.json()
    status = answer.status_code
    if kind == "floqer":
        assert body["status"] == status and body["error"] == HTTPStatus(status).phrase, where
        assert isinstance(body["message"], str) and body["message"], where
    elif kind == "fingerprint":  # v3: structured errors, plain ones on GET /visitors (ErrorPlainResponse)
        error = body["error"]
        plain = isinstance(error, str) and error and where.startswith("GET /visitors/")
        assert plain or (isinstance(error["code"], str) and isinstance(error["message"], str)), where
    else:
        assert body["status"] == "error" and body["error"]["code"] == status, where
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], where


class World:
    """Two sites of account A (a1, a2), one of account B, keys of every kind, and one of each thing."""

    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.url, timeout=10)  # one keep-alive connection
        now = server.clock.now_ms()

        def setup(tx: Any) -> dict[str, Any]:
            a, _ = accounts.ensure_account(tx, "a", now)
            tx.execute("INSERT INTO accounts (id, name, created_at) VALUES ('account-b', 'b', ?)", (now,))
            a1 = accounts.create_site(tx, a["id"], "a1.example.com", now)
            a2 = accounts.create_site(tx, a["id"], "a2.example.com", now)
            b1 = accounts.create_site(tx, "account-b", "b1.example.org", now)
            keys = {
                "account": accounts.create_key(tx, a["id"], ["*"], now)[0],
                "site": accounts.create_key(tx, a["id"], ["*"], now, site_id=a1.id)[0],
                "other_site": accounts.create_key(tx, a["id"], ["*"], now, site_id=a2.id)[0],
                "other_account": accounts.create_key(tx, "account-b", ["*"], now)[0],
                "other_account_site": accounts.create_key(tx, "account-b", ["*"], now, site_id=b1.id)[0],
            }
            revoked, record = accounts.create_key(tx, a["id"], ["*"], now)
            accounts.revoke_key(tx, a["id"], record.id, now)
            keys["revoked"] = revoked
            single = {s: accounts.create_key(tx, a["id"], [s], now, site_id=a1.id)[0] for s in accounts.SCOPES[1:]}
            account = {s: accounts.create_key(tx, a["id"], [s], now)[0] for s in accounts.SCOPES[1:]}
            return {"a1": a1.id, "a2": a2.id, "b1": b1.id, "keys": keys, "single": single, "account": account}

        made = server.store.write(setup)
        self.a1, self.a2, self.b1 = made["a1"], made["a2"], made["b1"]
        self.keys: dict[str, str] = made["keys"]
        self.single: dict[str, str] = made["single"]
        self.single_account: dict[str, str] = made["account"]
        key = self.keys["account"]
        self.visitor = post(server.url, event(self.a1, "https://a1.example.com/pricing")).json()
        self.call("POST", "/api/v1/identify", key, {"datafast_visitor_id": self.visitor["visitorId"], "user_id": "u1",
                  "email": "lin@acme-a.com"}, site=self.a1)  # fmt: skip
        self.person = self.call("GET", "/api/v1/people", key, site=self.a1).json()["data"][0]["id"]
        segment = {"name": "hot", "rules": {"path": ["/pricing"]}}
        self.segment = self.call("POST", "/api/v1/segments", key, segment, site=self.a1).json()["data"]["id"]
        funnel = {"name": "pricing", "steps": ["page:/pricing", "goal:signup"]}
        self.funnel = self.call("POST", "/api/v1/funnels", key, funnel, site=self.a1).json()["data"]["id"]
        source = {"name": "people", "active_domain": "a1.example.com"}
        self.source = self.call("POST", f"/api/v1/sources/{PERSONAL}", key, source).json()["data"]["source_instance_id"]
        workflow = {"name": "crm", "kind": "webhook", "inputs": ["email"], "url": "http://127.0.0.1:9/hook"}
        self.workflow = self.call("POST", "/api/v1/workflows", key, workflow).json()["data"]["id"]
        # what account B must never see
        self.secrets = [self.a1, self.a2, self.visitor["visitorId"], self.visitor["requestId"], "lin@acme-a.com",
                        self.person, self.segment, self.funnel, self.source, self.workflow]  # fmt: skip

    def leaked(self, answer: httpx.Response, asked: str) -> list[str]:
        """Account A's things in an answer, beyond the ids the caller itself put in the request."""
        return [s for s in self.secrets if s in answer.text and s not in asked]

    def call(
        self, method: str, path: str, key: str | None, body: Any = None, site: str | None = None, fp: bool = False
    ) -> httpx.Response:
        headers = {}
        if key is not None:
            headers = {"auth-api-key": key} if fp else {"authorization": f"Bearer {key}"}
        if site:  # beside any query the path holds already
            path += ("&" if "?" in path else "?") + f"websiteId={site}"
        return self.client.request(method, path, json=body, headers=headers)

    def concrete(self, template: str) -> str:
        values = {
            "visitorId": self.visitor["visitorId"],
            "visitor_id": self.visitor["visitorId"],
            "request_id": self.visitor["requestId"],
            "person_id": self.person,
            "segment_id": self.segment,
            "funnel_id": self.funnel,
            "key": "acme-a.com",
            "breakdown": "countries",
            "source_id": PERSONAL,
            "source_instance_id": self.source,
            "workflow_id": self.workflow,
            "delivery_id": str(uuid.uuid4()),
            "token_id": "0123456789abcdef",
        }
        return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)


def endpoints(server: AppServer) -> list[tuple[str, str]]:
    found = [
        (method.upper(), path)
        for path, ops in server.app.openapi()["paths"].items()
        for method in ops
        if not path.startswith(NOT_KEYED)
    ]
    return sorted(found) + FINGERPRINT


def test_every_endpoint_refuses_every_wrong_key(server: AppServer) -> None:
    world = World(server)
    checked = 0
    for method, template in endpoints(server):
        path, kind = world.concrete(template), dialect(template)
        fp = kind == "fingerprint"
        where = f"{method} {template}"

        def go(key: str | None, site: str | None = world.a1) -> httpx.Response:
            return world.call(method, path, key, {}, site=site, fp=fp)  # noqa: B023

        # the right key gets past authentication (the empty body may then be refused)
        assert go(world.keys["account"]).status_code not in (401, 403), where
        unauthenticated = 403 if fp else 401  # Fingerprint answers a missing or unknown key with 403
        for name, key in (("no key", None), ("wrong key", "ff_" + "x" * 40), ("revoked", world.keys["revoked"])):
            answer = go(key)
            assert answer.status_code == unauthenticated, (where, name, answer.text)
            check_envelope(answer, kind, f"{where} {name}")
        # scopes: those that let the call through, and every other one refused with 403
        admin = template.startswith(ADMIN)
        singles = world.single_account if admin else world.single
        allowed = {s for s, k in singles.items() if go(k).status_code not in (401, 403)}
        assert allowed, f"{where}: no single scope reaches it"
        if admin:  # a website key with every scope is still refused
            answer = go(world.keys["site"])
            assert answer.status_code == 403, (where, answer.text)
            check_envelope(answer, kind, f"{where} website key")
        for scope, key in singles.items():
            if scope not in allowed:
                answer = go(key)
                assert answer.status_code == 403, (where, scope, answer.text)
                check_envelope(answer, kind, f"{where} scope {scope}")
        # a key of another site of the same account
        answer = go(world.keys["other_site"])
        if admin:
            assert answer.status_code == 403, (where, answer.text)
        elif ACCOUNT_LEVEL.match(template):
            assert answer.status_code not in (401, 403), (where, answer.text)  # the account's own things
        elif answer.status_code == 200:  # Fingerprint's visit history of an unknown visitor: empty
            assert template == "/visitors/{visitor_id}" and answer.json()["visits"] == [], (where, answer.text)
        else:
            assert answer.status_code in (403, 404), (where, "other site", answer.text)
            check_envelope(answer, kind, f"{where} other site")
        # another account's keys never reach account A's things
        for name in ("other_account", "other_account_site"):
            answer = go(world.keys[name])
            reached = answer.status_code == 200 and template == "/visitors/{visitor_id}"
            assert (
                answer.status_code in (403, 404)
                or reached
                or ((admin or ACCOUNT_LEVEL.match(template)) and answer.status_code < 500)
            )
            if reached:
                assert answer.json()["visits"] == [], (where, name, answer.text)
            if answer.status_code in (403, 404):
                check_envelope(answer, kind, f"{where} {name}")
            assert not world.leaked(answer, path), (where, name, answer.text)
        checked += 1
    assert checked >= 40, checked


@pytest.mark.parametrize("key_name", ["other_account", "other_account_site"])
def test_no_answer_holds_another_accounts_data(server: AppServer, key_name: str) -> None:
    world = World(server)
    key = world.keys[key_name]
    post(server.url, event(world.b1, "https://b1.example.org/"))  # B's own data
    for method, template in endpoints(server):
        path, fp = world.concrete(template), dialect(template) == "fingerprint"
        for site in (world.b1, world.a1, None):  # its own site, A's, none
            answer = world.call(method, path, key, {}, site=site, fp=fp)
            assert answer.status_code < 500, (method, template, answer.text)
            leaked = world.leaked(answer, f"{path}?websiteId={site}")
            assert not leaked, (method, template, site, leaked, answer.text[:300])
