"""Contacts and companies import: JSON and CSV through the API, CSV through the CLI, idempotent."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from footfall.settings import Settings
from tests.support.collect import event, post
from tests.support.geo_dbs import CLOUD_IP, ISP_IP, MIT_IP
from tests.support.servers import AppServer
from tests.test_cli import run

CONTACTS_CSV = """email,first_name,last_name,title,company,phone,plan
ana@acme.com,Ana,Silva,Head of Data,Acme,+351 21 000 0000,enterprise
bo@globex.io,Bo,Chen,Account Executive,Globex,,
not-an-email,X,Y,,,,
"""
COMPANIES_CSV = """domain,name,industry,size
https://www.acme.com/about,Acme Corporation,Manufacturing,1001-5000
globex.io,Globex,Software,51-200
,Nameless,,
"""


def post_import(server: AppServer, key: str, body: bytes | str, content_type: str) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/v1/contacts/import",
        content=body,
        headers={"authorization": f"Bearer {key}", "content-type": content_type},
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def people(server: AppServer, key: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{server.url}/api/v1/people", headers={"authorization": f"Bearer {key}"})
    return {p["email"]: p for p in response.json()["data"]}


@pytest.fixture
def site(server: AppServer) -> tuple[str, str]:
    return server.add_site("example.com", scopes=("analytics:read", "identify:write"))


def test_csv_import_is_an_idempotent_upsert(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    first = post_import(server, key, CONTACTS_CSV, "text/csv")
    assert first["contacts"] == {"created": 2, "updated": 0}
    assert first["errors"] == [{"row": 2, "kind": "contact", "message": "email is required (a valid address)"}]
    again = post_import(server, key, CONTACTS_CSV, "text/csv")
    assert again["contacts"] == {"created": 0, "updated": 2}
    assert [link["token"] for link in again["links"]] == [link["token"] for link in first["links"]]
    found = people(server, key)
    assert set(found) == {"ana@acme.com", "bo@globex.io"}
    ana = found["ana@acme.com"]
    assert (ana["firstName"], ana["title"], ana["department"], ana["seniority"]) == (
        "Ana",
        "Head of Data",
        "Data",
        "Head/Director",
    )
    assert ana["metadata"] == {"plan": "enterprise"} and ana["sources"]["title"] == "import"
    # an imported contact who visits through their link is recognised
    token = first["links"][0]["token"]
    answer = post(server.url, event(site_id, f"https://example.com/?ff_t={token}")).json()
    detail = httpx.get(f"{server.url}/api/v1/people/{ana['id']}", headers={"authorization": f"Bearer {key}"}).json()
    assert [d["visitorId"] for d in detail["data"]["devices"]] == [answer["visitorId"]]


def test_companies_and_json(server: AppServer, site: tuple[str, str]) -> None:
    _, key = site
    made = post_import(server, key, COMPANIES_CSV, "text/csv")
    assert made["companies"] == {"created": 2, "updated": 0} and made["errors"][0]["kind"] == "company"
    body = {
        "companies": [
            {"domain": "acme.com", "industry": "Robotics", "linkedinUrl": "https://linkedin.com/company/acme"}
        ],
        "contacts": [{"email": "Eve@Acme.com", "name": "Eve Adams", "userId": "eve-1"}],
    }
    result = post_import(server, key, json.dumps(body), "application/json")
    assert result["companies"] == {"created": 0, "updated": 1} and result["contacts"] == {"created": 1, "updated": 0}
    rows = server.store.read(
        lambda tx: tx.all("SELECT domain, name, industry, linkedin_url FROM companies ORDER BY domain")
    )
    assert [(r["domain"], r["name"], r["industry"]) for r in rows] == [
        ("acme.com", "Acme Corporation", "Robotics"),
        ("globex.io", "Globex", "Software"),
    ]
    assert people(server, key)["eve@acme.com"]["userId"] == "eve-1"
    bad = httpx.post(
        f"{server.url}/api/v1/contacts/import",
        content=b"{not json",
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]["message"]


def test_cli_import_writes_link_tokens(settings: Settings, tmp_path: Path) -> None:
    run(settings, "init")
    _, out = run(settings, "sites", "add", "example.com")
    site_id = re.search(r"Site id: ([0-9a-f]{24})", out).group(1)  # type: ignore[union-attr]
    source, links = tmp_path / "contacts.csv", tmp_path / "links.csv"
    source.write_text(CONTACTS_CSV)
    code, out = run(settings, "contacts", "import", str(source), "--site", site_id, "--links", str(links))
    assert code == 0 and "contacts: 2 created, 0 updated" in out and "1 rows refused" in out
    with links.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["email"] for r in rows] == ["ana@acme.com", "bo@globex.io"] and all(len(r["token"]) == 43 for r in rows)
    code, out = run(settings, "contacts", "import", str(source), "--site", site_id)
    assert code == 0 and "contacts: 0 created, 2 updated" in out
    code, out = run(settings, "contacts", "import", str(tmp_path / "missing.csv"), "--site", site_id)
    assert code == 2 and "cannot read" in out


def test_companies_from_imports_emails_and_business_networks(server: AppServer, site: tuple[str, str]) -> None:
    """acme.com imported; globex.io only from a person's business email; MIT's network for an
    anonymous visit; an ISP's and a hosting provider's visits name no company."""
    site_id, key = site
    post_import(server, key, COMPANIES_CSV, "text/csv")
    v = post(server.url, event(site_id, "https://example.com/")).json()["visitorId"]
    identify = event(
        site_id,
        "https://example.com/",
        type="identify",
        visitorId=v,
        extraData={"user_id": "u", "email": "kai@globex.io"},
    )
    post(server.url, identify)
    post_import(server, key, json.dumps({"contacts": [{"email": "ana@acme.com", "title": "CFO"}]}), "application/json")
    for ip in (MIT_IP, ISP_IP, CLOUD_IP):
        post(server.url, event(site_id, "https://example.com/pricing"), ip=ip)
    headers = {"authorization": f"Bearer {key}"}
    listed = httpx.get(f"{server.url}/api/v1/companies", headers=headers).json()
    by_key = {c["key"]: c for c in listed["data"]}
    assert set(by_key) == {"acme.com", "globex.io", "AS3"} and listed["pagination"]["total"] == 3
    assert (by_key["acme.com"]["name"], by_key["acme.com"]["industry"], by_key["acme.com"]["source"]) == (
        "Acme Corporation",
        "Manufacturing",
        "import",
    )
    assert by_key["globex.io"]["source"] == "import" and by_key["globex.io"]["people"] == 1
    assert by_key["globex.io"]["visits"] == 1
    mit = by_key["AS3"]
    assert (mit["name"], mit["source"], mit["visits"], mit["visitors"]) == (
        "Massachusetts Institute of Technology",
        "network",
        1,
        1,
    )
    acme = httpx.get(f"{server.url}/api/v1/companies/acme.com", headers=headers).json()["data"]
    assert [p["email"] for p in acme["peopleList"]] == ["ana@acme.com"] and acme["peopleList"][0][
        "industry"
    ] == "Manufacturing"
    assert httpx.get(f"{server.url}/api/v1/companies/AS3", headers=headers).json()["data"]["asn"] == 3
    assert httpx.get(f"{server.url}/api/v1/companies/nosuch.com", headers=headers).status_code == 404
