"""`/metrics`: Prometheus' text format with what collect counted and what the store holds."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from footfall.settings import Settings
from tests.support.collect import event, post
from tests.support.servers import AppServer


def scrape(server: AppServer, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{server.url}/metrics", headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def test_collect_counts_drops_rejections_latency_and_store_figures(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    before = scrape(server)
    assert before[("footfall_events_accepted_total", ())] == 0
    assert post(server.url, event(site)).status_code == 202
    assert post(server.url, [event(site), event(site)], path="/api/events/batch").status_code == 202
    assert post(server.url, event(site), ua="Googlebot/2.1 (+http://www.google.com/bot.html)").status_code == 202
    assert post(server.url, event("nope")).status_code == 202
    assert post(server.url, {"websiteId": site}).status_code == 400
    after = scrape(server)
    assert after[("footfall_events_accepted_total", ())] == 3
    assert after[("footfall_events_dropped_total", (("reason", "bot"),))] == 1
    assert after[("footfall_events_dropped_total", (("reason", "unknown_site"),))] == 1
    assert after[("footfall_collect_rejected_requests_total", (("status", "400"),))] == 1
    assert after[("footfall_collect_seconds_count", ())] == 4  # the requests that reached the pipeline
    assert after[("footfall_write_queue", ())] >= 0
    assert after[("footfall_deliveries", (("status", "pending"),))] == 0


def test_a_token_guards_the_scrape(settings: Settings) -> None:
    with AppServer(settings.replace(metrics_token="s3cret-scrape-token")) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 401
        assert httpx.get(f"{server.url}/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
        found = scrape(server, authorization="Bearer s3cret-scrape-token")
        assert any(re.match("footfall_", name) for name, _ in found)
