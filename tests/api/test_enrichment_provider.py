"""The optional enrichment provider, against a real HTTP server on loopback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from footfall.settings import Settings
from tests.support.collect import event, post
from tests.support.provider import Provider
from tests.support.servers import AppServer


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.httpd.shutdown()


@pytest.fixture
def enriched_server(settings: Settings, provider: Provider, city_dbs: dict[str, Path]) -> Iterator[AppServer]:
    configured = settings.replace(
        enrichment_url=f"http://127.0.0.1:{provider.port}/enrich",
        enrichment_token="secret-token",
        enrichment_timeout_ms=300,
        geoip_city=str(city_dbs["geoip2"]),
        geoip_asn=str(city_dbs["asn"]),
    )
    with AppServer(configured) as server:
        yield server


def test_provider_fills_empty_fields_caches_and_retries_failures(
    enriched_server: AppServer, provider: Provider
) -> None:
    server = enriched_server
    site, key = server.add_site("example.com", scopes=("analytics:read", "identify:write"))
    for user, email, title in (
        ("ana", "ana@acme.com", "Head of Finance"),
        ("bo", "bo@globex.io", None),
        ("slow", "slow@slow.com", None),
        ("err", "err@broken.com", None),
    ):
        v = post(server.url, event(site)).json()["visitorId"]
        extra = {"user_id": user, "email": email} | ({"title": title} if title else {})
        keyed = httpx.post(f"{server.url}/api/v1/identify", headers={"authorization": f"Bearer {key}"},
                           json=extra | {"datafast_visitor_id": v})  # fmt: skip
        assert keyed.status_code == 200, keyed.text
    # a keyless claim (anyone may send one, with any email) is not asked about: it may cost the owner
    v = post(server.url, event(site)).json()["visitorId"]
    claim = {"user_id": "claimed", "email": "someone@claims.example.com"}
    assert post(server.url, event(site, type="identify", visitorId=v, extraData=claim)).status_code == 202
    job = server.app.state.enrichment
    assert job.run_once() == 2  # ana (answered) and bo (nothing known); slow timed out, err failed
    headers = {"authorization": f"Bearer {key}"}
    people = {p["userId"]: p for p in httpx.get(f"{server.url}/api/v1/people", headers=headers).json()["data"]}
    ana = people["ana"]
    assert ana["title"] == "Head of Finance" and ana["sources"]["title"] == "api"  # given data wins
    assert (ana["location"], ana["firstName"], ana["sources"]["location"]) == ("Lisbon, Portugal", "Ana", "provider")
    assert (ana["company"], ana["industry"]) == ("Acme", "Manufacturing")
    acme = httpx.get(f"{server.url}/api/v1/companies/acme.com", headers=headers).json()["data"]
    assert (acme["source"], acme["size"]) == ("provider", "1001-5000")
    assert people["bo"]["sources"].get("location") == "geo"  # the provider knew nothing: nothing of its
    assert provider.bodies[0]["auth"] == "Bearer secret-token" and provider.bodies[0]["domain"] == "acme.com"
    # the failures are asked again; the settled ones are not
    job.run_once()
    assert provider.asked == Counter({"ana@acme.com": 1, "bo@globex.io": 1, "slow@slow.com": 2, "err@broken.com": 2})
    # a cached answer is reused without asking
    server.store.write(lambda tx: tx.execute("UPDATE people SET enriched_at = NULL WHERE user_id = 'ana'"))
    job.run_once()
    assert provider.asked["ana@acme.com"] == 1


def test_no_provider_no_job(server: AppServer) -> None:
    assert server.app.state.enrichment is None
