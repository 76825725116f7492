"""`/metrics` in Prometheus' text format (docs/reliability.md).

One registry per app (no module-level state): what the collect path counts as it goes (events
accepted, dropped by reason, refused by a rate limit, request latency) and what is read when
scraped (the writer's queue depth and commit groups, deliveries by status). Counts are per server
process: with several workers, each one's figures are its own (scrape each, or run one worker).
With `FOOTFALL_METRICS_TOKEN` set, a scrape needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from footfall.ingest.writer_process import EventWriterProcess
from footfall.store.base import Store

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "footfall_events_accepted", "Events stored and acknowledged (202).", registry=self.registry
        )
        self.dropped = Counter(
            "footfall_events_dropped", "Events answered 202 but not stored, by reason.", ["reason"],
            registry=self.registry,
        )  # fmt: skip
        self.rejected = Counter(
            "footfall_collect_rejected_requests", "Collect requests refused with an error status, by status.",
            ["status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "footfall_collect_seconds", "Time to answer a collect request (after its commit).",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip


class StoreFigures(Collector):
    """Read at scrape time: the writers' queues and the deliveries by status."""

    def __init__(self, store: Store, writer: EventWriterProcess | None) -> None:
        self.store = store
        self.writer = writer

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self.store.stats()
        waiting = self.writer.waiting if self.writer is not None else 0
        queue = GaugeMetricFamily(
            "footfall_write_queue", "Jobs waiting for the database writer and collect requests for the event writer."
        )
        queue.add_metric([], stats.get("write_queue", 0) + waiting)
        yield queue
        stalled = GaugeMetricFamily(
            "footfall_writer_stalled_seconds", "How long the event writer's oldest unanswered request has waited."
        )
        stalled.add_metric([], self.writer.stalled_for() if self.writer is not None else 0.0)
        yield stalled
        restarts = GaugeMetricFamily("footfall_writer_restarts", "Event writers restarted by the watchdog.")
        restarts.add_metric([], self.writer.restarts if self.writer is not None else 0)
        yield restarts
        groups = GaugeMetricFamily("footfall_write_groups", "Commit groups written since start.")
        groups.add_metric([], stats.get("write_batches", 0))
        yield groups
        deliveries = GaugeMetricFamily("footfall_deliveries", "Workflow deliveries by status.", labels=["status"])
        rows = self.store.read(lambda tx: tx.all("SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status"))
        counts = {r["status"]: int(r["n"]) for r in rows}
        for status in ("pending", "held", "delivered", "failed", "skipped"):
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries


def endpoint(
    metrics: Metrics, store: Store, token: str, writer: EventWriterProcess | None = None
) -> Callable[[Request], Awaitable[Response]]:
    metrics.registry.register(StoreFigures(store, writer))

    async def scrape(request: Request) -> Response:
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse("a bearer token is required", 401, headers={"www-authenticate": "Bearer"})
        body = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return scrape
