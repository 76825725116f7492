"""`create_app(settings)`: builds every component and passes it in. No module-level state."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from footfall import __version__
from footfall.api import (
    analytics,
    conversions,
    datafast,
    datafast_admin,
    fingerprint,
    floqer,
    floqer_workflows,
    people,
    postmetric,
    webhooks,
)
from footfall.api import funnels as funnels_api
from footfall.api import scoring as scoring_api
from footfall.api.auth import Authenticator
from footfall.api.errors import RENDERERS, ApiError, dialect_for_path, render
from footfall.api.ratelimit import CollectLimits, WindowLimiter, floqer_rate_limit, rate_limit
from footfall.clock import Clock, SystemClock
from footfall.dashboard import pages as dashboard
from footfall.delivery import Sender, sender_loop
from footfall.edge import BodyTooLarge, Edge
from footfall.enrich.geo import GeoLookup
from footfall.enrich.networks import HostingNetworks
from footfall.enrich.provider import EnrichmentProvider
from footfall.enrich.spam import SPAM_FILE, ReferrerSpam
from footfall.filtered import Filtered
from footfall.filtered import flush as flush_filtered
from footfall.ids import LinkSigner, VisitorSigner
from footfall.ingest import postmetric as postmetric_track
from footfall.ingest.cookieless import CookielessIds
from footfall.ingest.endpoint import Collector, EventSink
from footfall.ingest.sites import SiteCache
from footfall.ingest.writer import EventWriter
from footfall.ingest.writer_process import DATA_ERRORS, EventWriterProcess, Start, Unwritable, WriterFault
from footfall.jobs import leased, run_periodically
from footfall.metrics import Metrics
from footfall.metrics import endpoint as metrics_endpoint
from footfall.model import Event
from footfall.outbound import Outbound, Refused
from footfall.pending_goals import INTERVAL_S as PENDING_GOALS_INTERVAL_S
from footfall.pending_goals import attach as attach_goals
from footfall.retention import PURGE_INTERVAL_S, purge
from footfall.rollups import Rollups
from footfall.scoring.scorer import Scoring, scoring_loop
from footfall.settings import Settings
from footfall.store import instance_secret, open_store
from footfall.store.base import BadValue, Store
from footfall.tracker import tracker_routes


@dataclass
class Components:
    """Everything a request handler may need, built once per app."""

    settings: Settings
    store: Store
    clock: Clock
    signer: VisitorSigner
    secret: bytes
    geo: GeoLookup
    filtered: Filtered


def geo_paths(settings: Settings, kind: str = "city") -> list[Path]:
    """FOOTFALL_GEOIP_CITY / _ASN (comma-separated), else DATA_DIR/geo/<kind>*.mmdb (and for ASN
    the asn*.ranges table): where `footfall geo install` puts them."""
    configured = settings.geoip_city if kind == "city" else settings.geoip_asn
    if configured:
        return [Path(p.strip()) for p in configured.split(",") if p.strip()]
    folder = settings.data_path / "geo"
    found = sorted(folder.glob(f"{kind}*.mmdb"))
    return found + (sorted(folder.glob("asn*.ranges")) if kind == "asn" else [])


def spam_path(settings: Settings) -> Path:
    """FOOTFALL_REFERRER_SPAM_FILE, else DATA_DIR/referrer-spam.txt (`footfall referrer-spam update`)."""
    return Path(settings.referrer_spam_file) if settings.referrer_spam_file else settings.data_path / SPAM_FILE


def build(settings: Settings, clock: Clock | None = None) -> Components:
    store = open_store(settings)
    secret = settings.secret_key or instance_secret(store, "visitor_signing_key")
    return Components(
        settings=settings,
        store=store,
        clock=clock or SystemClock(),
        signer=VisitorSigner(secret.encode()),
        secret=secret.encode(),
        geo=GeoLookup(geo_paths(settings), geo_paths(settings, "asn")),
        filtered=Filtered(),
    )


def event_sink(c: Components) -> tuple[EventSink, EventWriterProcess | None]:
    """Where accepted events go: a writer process (default), or the store's writer thread."""
    idle_ms = c.settings.session_idle_minutes * 60_000
    match_window_ms = c.settings.match_window_days * 86_400_000
    if c.settings.writer_process:
        path = str(getattr(c.store, "path", ""))
        process = EventWriterProcess(
            Start(
                c.settings.database_url if c.settings.uses_postgres else "",
                path,
                c.settings.sqlite_synchronous,
                c.secret,
                idle_ms,
                match_window_ms,
                list(c.settings.hosting_asns),
                c.settings.link_token_days * 86_400_000,
            ),
            c.settings.writer_timeout_seconds,
        )
        return process.write, process
    hosting = HostingNetworks(c.settings.hosting_asns)
    link_ttl_ms = c.settings.link_token_days * 86_400_000
    writer = EventWriter(c.signer, LinkSigner(c.secret), idle_ms, match_window_ms, hosting, link_ttl_ms)

    async def through_store(events: list[Event]) -> list[Event]:
        try:
            return await asyncio.wrap_future(c.store.submit_merged(writer.merge, events))
        except DATA_ERRORS as exc:
            raise Unwritable(f"the events cannot be stored ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - the store's fault, not the request's: 503, send again
            raise WriterFault(str(exc)) from exc

    return through_store, None


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    c = build(settings, clock)
    sink, writer_process = event_sink(c)
    metrics = Metrics()
    collector = Collector(
        store=c.store,
        sites=SiteCache(c.store),
        geo=c.geo,
        clock=c.clock,
        sink=sink,
        proxies=tuple(settings.trusted_proxies),
        real_ip_header=settings.proxy_sets_real_ip,
        max_body=settings.max_body_bytes,
        max_batch=settings.max_batch_events,
        filtered=c.filtered,
        hosting=HostingNetworks(settings.hosting_asns),
        spam=ReferrerSpam.from_file(spam_path(settings)),
        limits=CollectLimits(settings.collect_rate_per_minute_ip, settings.collect_rate_per_minute_site),
        metrics=metrics,
        cookieless=CookielessIds(c.store, c.clock, settings.session_idle_minutes * 60_000),
    )

    outbound = Outbound.from_setting(settings.outbound_allow)
    if settings.enrichment_url:
        try:
            outbound.check_url(settings.enrichment_url)
        except Refused as exc:
            raise ValueError(f"FOOTFALL_ENRICHMENT_URL: {exc}") from None
    enrichment = (
        EnrichmentProvider(
            c.store,
            c.clock,
            settings.enrichment_url,
            settings.enrichment_token,
            settings.enrichment_timeout_ms,
            settings.enrichment_ttl_days,
            outbound,
            settings.enrich_unverified,
        )
        if settings.enrichment_url
        else None
    )

    rollups = Rollups(c.store, c.clock, settings.session_idle_minutes * 60_000)
    instance = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"  # holds job leases
    scoring = Scoring(c.store, c.clock, settings.usd_rates or {})
    sender = Sender(
        c.store,
        c.clock,
        settings.delivery_timeout_seconds,
        settings.delivery_backoff_ms,
        int(settings.delivery_max_age_hours * 3_600_000),
        outbound,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if writer_process is not None:
            await writer_process.start()
        tasks = [asyncio.create_task(run_periodically(10.0, lambda: flush_filtered(c.store, c.filtered, c.clock)))]
        tasks.append(asyncio.create_task(sender_loop(sender, settings.delivery_interval_seconds)))
        if settings.rollup_interval_seconds > 0:
            fold = leased(c.store, c.clock, "rollups", instance, rollups.fold)
            tasks.append(asyncio.create_task(run_periodically(settings.rollup_interval_seconds, fold)))
        scorer_process = None
        if settings.scoring_interval_seconds > 0:  # a process of its own: off the collect path's interpreter
            scorer_process = multiprocessing.get_context("spawn").Process(
                target=scoring_loop,
                args=(settings, settings.scoring_interval_seconds, os.getpid(), instance),
                name="footfall-scoring",
                daemon=True,
            )
            scorer_process.start()
        attach = leased(
            c.store, c.clock, "pending_goals", instance, lambda: attach_goals(c.store, c.signer, c.clock.now_ms())
        )
        tasks.append(asyncio.create_task(run_periodically(PENDING_GOALS_INTERVAL_S, attach)))
        purge_job = leased(c.store, c.clock, "retention", instance, lambda: purge(c.store, c.clock))
        tasks.append(asyncio.create_task(run_periodically(PURGE_INTERVAL_S, purge_job)))
        if enrichment is not None:
            enrich = leased(c.store, c.clock, "enrichment", instance, enrichment.run_once)
            tasks.append(asyncio.create_task(run_periodically(30.0, enrich)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if enrichment is not None:
                enrichment.close()
            await sender.close()
            if scorer_process is not None:
                scorer_process.terminate()  # a run cut short leaves only whole transactions
                await asyncio.to_thread(scorer_process.join, 10)
            await asyncio.to_thread(flush_filtered, c.store, c.filtered, c.clock)
            if writer_process is not None:
                await writer_process.close()
            c.store.close()
            c.geo.close()

    app = FastAPI(
        title="footfall",
        version=__version__,
        lifespan=lifespan,
        description="Self-hosted website visitor identification.",
    )
    app.state.components = c
    app.state.collector = collector
    app.state.writer_process = writer_process
    app.state.enrichment = enrichment
    app.state.rollups = rollups
    app.state.sender = sender
    app.state.scoring = scoring
    app.router.routes.extend(collector.routes())
    app.router.routes.extend(postmetric_track.routes(collector))
    app.router.routes.extend(tracker_routes(collector.sites.get))
    limiter = fingerprint.RateLimiter(settings.fingerprint_rate, settings.fingerprint_burst)
    hosting = HostingNetworks(settings.hosting_asns)
    app.router.routes.extend(fingerprint.routes(c.store, c.geo, c.clock, limiter, hosting))
    app.router.routes.append(Route("/healthz", _health(writer_process), methods=["GET"]))
    scrape = metrics_endpoint(metrics, c.store, settings.metrics_token, writer_process)
    app.router.routes.append(Route("/metrics", scrape, methods=["GET"]))
    app.router.routes.append(Route("/flags/{code}.svg", _flag, methods=["GET"]))
    if settings.benchmark_routes:
        app.router.routes.append(Route("/_bench/noop", _noop, methods=["POST"]))
    auth = Authenticator(c.store)
    limited = [Depends(rate_limit(WindowLimiter(settings.api_rate_per_minute), c.clock))]
    for api in (
        datafast.router(c.store, auth, c.signer, c.clock),
        datafast_admin.router(c.store, auth, c.clock),
        conversions.router(c.store, auth, c.signer, c.clock),
        postmetric.router(c.store, auth, c.signer, c.clock),
        analytics.router(c.store, auth, c.clock),
        people.router(c.store, auth, c.signer, LinkSigner(c.secret), c.clock, hosting),
        scoring_api.router(c.store, auth),
        funnels_api.router(c.store, auth, c.clock),
    ):
        app.include_router(api, dependencies=limited)
    app.include_router(webhooks.router(c.store, c.signer, c.clock))
    floqer_limits = [
        Depends(
            floqer_rate_limit(
                WindowLimiter(settings.floqer_rate_per_minute),
                WindowLimiter(settings.floqer_rate_per_day, 86_400_000),
                c.clock,
            )
        )
    ]
    app.include_router(floqer.router(c.store, auth, c.clock, settings, hosting), dependencies=floqer_limits)
    app.include_router(floqer_workflows.router(c.store, auth, c.clock, outbound), dependencies=floqer_limits)
    app.include_router(dashboard.router(c.store, c.clock, settings, hosting, LinkSigner(c.secret), outbound))
    app.mount("/static", StaticFiles(packages=[("footfall", "static")]), name="static")
    _install_error_handlers(app)
    app.add_middleware(Edge, max_body=settings.max_body_bytes, max_import=settings.max_import_bytes)
    return app


def _health(writer: EventWriterProcess | None) -> Callable[[Request], Awaitable[Response]]:
    """/healthz: 200 "ok" while events get written; 503 with the reason when the event writer has
    held a request for more than half its timeout (the watchdog restarts it at the full timeout)."""

    async def health(request: Request) -> Response:
        stalled = writer.stalled_for() if writer is not None else 0.0
        if writer is not None and stalled > writer.timeout_s / 2:
            return PlainTextResponse(f"ingestion stalled: the event writer has not answered for {stalled:.0f} s", 503)
        return PlainTextResponse("ok")

    return health


async def _flag(request: Request) -> Response:
    """A country's flag (the countries breakdown's `image`): its emoji, the two regional indicator
    letters of the code, drawn by the viewer's emoji font; nothing fetched from elsewhere."""
    code = request.path_params["code"].upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return PlainTextResponse("a two-letter country code", 404)
    emoji = "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code)
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 48" width="64" height="48">'
        f'<text x="32" y="40" font-size="40" text-anchor="middle">{emoji}</text></svg>'
    )
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "public, max-age=86400"})


async def _noop(request: Request) -> Response:
    """Reads the body and answers 202: the baseline bench/ingest.py compares the collect path with."""
    await request.body()
    return Response(b'{"ok":true}', 202, media_type="application/json")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(BadValue)
    async def bad_value(request: Request, exc: BadValue) -> JSONResponse:
        message = f"a value cannot be stored ({str(exc).splitlines()[0][:200]})"
        return render(ApiError(400, message, dialect=dialect_for_path(request.url.path)))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return render(ApiError(413, str(exc), dialect=dialect_for_path(request.url.path)))

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        # a body nested thousands deep overflows any JSON decoder: a client error, not ours
        return render(ApiError(400, "the body is nested too deeply", dialect=dialect_for_path(request.url.path)))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in exc.errors())
        return render(ApiError(400, problems, dialect=dialect_for_path(request.url.path)))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if fingerprint.owns(request.url.path):
            return fingerprint.framework_error(request.url.path, exc.status_code, str(exc.detail))
        dialect = dialect_for_path(request.url.path)
        return JSONResponse(
            RENDERERS[dialect](exc.status_code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None)
        )
