"""The collect endpoints: `POST /api/events`, `POST /api/events/batch`, `GET /api/events.gif`.

Plain Starlette routes (no FastAPI validation layer on the hot path): read the
body within the size limit, decode with msgspec, run the pipeline, hand the
survivors to the store and answer 202 only after their transaction committed.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from footfall import accounts, ids
from footfall.api.auth import bearer
from footfall.api.ratelimit import CollectLimits
from footfall.clock import Clock
from footfall.enrich.geo import GeoLookup
from footfall.enrich.networks import HostingNetworks
from footfall.enrich.spam import ReferrerSpam
from footfall.filtered import Filtered
from footfall.ingest import history, pipeline
from footfall.ingest.cookieless import CookielessIds
from footfall.ingest.pace import Pace
from footfall.ingest.payloads import PayloadError, WireEvent, decode_batch, decode_one, evidence, from_query, to_event
from footfall.ingest.sites import SiteCache
from footfall.ingest.writer_process import Unwritable, WriterFault, WriterGone
from footfall.metrics import Metrics
from footfall.model import Event
from footfall.net import Network, client_ip
from footfall.store.base import Store

EventSink = Callable[[list[Event]], Awaitable[list[Event]]]
HISTORY_NEEDS_KEY = (
    "timestamp, ip, userAgent and ffKnown are history: send them with an API key that has the "
    "events:import scope (Authorization: Bearer <key>), docs/import.md"
)

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
DROP_HEADER = "x-footfall-dropped"
_json = msgspec.json.Encoder()


class TooLarge(Exception):
    pass


@dataclass
class Collector:
    store: Store
    sites: SiteCache
    geo: GeoLookup
    clock: Clock
    sink: EventSink  # identifies and writes events; returns after the commit
    proxies: tuple[Network, ...]
    max_body: int
    max_batch: int
    filtered: Filtered
    limits: CollectLimits
    metrics: Metrics
    cookieless: CookielessIds
    real_ip_header: bool = False  # FOOTFALL_PROXY_SETS_REAL_IP
    hosting: HostingNetworks = field(default_factory=HostingNetworks)
    spam: ReferrerSpam = field(default_factory=ReferrerSpam)

    def __post_init__(self) -> None:
        self.context = pipeline.Context(self.geo, self.hosting, self.spam, Pace())

    def routes(self) -> list[Route]:
        return [
            Route("/api/events", self.single, methods=["POST", "OPTIONS"]),
            Route("/api/events/batch", self.batch, methods=["POST", "OPTIONS"]),
            Route("/api/events.gif", self.gif, methods=["GET"]),
        ]

    async def single(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return preflight(request)
        try:
            wire = [decode_one(await read_body(request, self.max_body))]
        except TooLarge:
            return self.refuse(request, 413, f"body larger than {self.max_body} bytes")
        except PayloadError as exc:
            return self.refuse(request, 400, str(exc))
        return await self.collect(request, wire, single=True)

    def refuse(self, request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        self.metrics.rejected.labels(str(status)).inc()
        return error(request, status, message, headers)

    async def batch(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return preflight(request)
        try:
            wire = decode_batch(await read_body(request, self.max_body))
        except TooLarge:
            return self.refuse(request, 413, f"body larger than {self.max_body} bytes")
        except PayloadError as exc:
            return self.refuse(request, 400, str(exc))
        if len(wire) > self.max_batch:
            return self.refuse(request, 413, f"at most {self.max_batch} events per batch, got {len(wire)}")
        if request.headers.get("authorization"):  # a backend sending history (docs/import.md)
            return await self.collect_history(request, wire)
        if any(history.carries_history(w) for w in wire):
            return self.refuse(request, 400, HISTORY_NEEDS_KEY)
        return await self.collect(request, wire, single=False)

    async def collect_history(self, request: Request, wire: list[WireEvent]) -> Response:
        """A keyed batch: each event with its own time, address and browser, through the history
        steps (ingest/history.py); no per-address limits (the key is the sender)."""
        token = bearer(request)
        key = await run_in_threadpool(self.store.read, lambda tx: accounts.find_key(tx, token)) if token else None
        if key is None:
            return self.refuse(request, 401, "Invalid or revoked API key")
        if not key.allows("events:import"):
            return self.refuse(request, 403, "This API key lacks the 'events:import' permission")
        now = self.clock.now_ms()
        kept: list[Event] = []
        outcome: list[Event | str] = []
        for i, w in enumerate(wire):
            site = await self.sites.get(w.websiteId)
            if site is not None and (site.account_id != key.account_id or key.site_id not in (None, site.id)):
                return self.refuse(request, 403, f"events[{i}].websiteId: not a site this key reaches")
            try:
                c = history.candidate(w, now, site, self.context, f"events[{i}].")
            except PayloadError as exc:
                return self.refuse(request, 400, str(exc))
            reason = pipeline.run(c, history.STEPS)
            if reason is None:
                kept.append(c.event)
                outcome.append(c.event)
            else:
                site_key = "" if reason == "unknown_site" else c.event.site_id
                self.filtered.add(site_key, reason, c.request.user_agent, c.event.ts, c.event.href)
                outcome.append(reason)
        if kept:
            try:
                await self.sink(sorted(kept, key=lambda e: e.ts))  # in time order: fewer late events
            except Unwritable as exc:
                return self.refuse(request, 400, str(exc))
            except (WriterGone, WriterFault):
                return self.refuse(request, 503, "the event writer restarted; nothing was stored, send again")
            self.metrics.accepted.inc(len(kept))
        return accepted(request, outcome, single=False)

    async def gif(self, request: Request) -> Response:
        try:
            wire = [from_query(request.query_params, request.headers.get("referer"))]
        except PayloadError as exc:
            return self.refuse(request, 400, str(exc))
        response = await self.collect(request, wire, single=True)
        gif = Response(
            GIF,
            status_code=200 if response.status_code < 300 else response.status_code,
            media_type="image/gif",
            headers={"cache-control": "no-store"},
        )
        for name in (DROP_HEADER, "retry-after"):
            if name in response.headers:
                gif.headers[name] = response.headers[name]
        return gif

    async def collect(self, request: Request, wire: list[WireEvent], *, single: bool) -> Response:
        started = time.perf_counter()
        now = self.clock.now_ms()
        try:
            events = [to_event(w, now, "" if single else f"events[{i}].") for i, w in enumerate(wire)]
            shown = [evidence(w, "" if single else f"events[{i}].") for i, w in enumerate(wire)]
        except PayloadError as exc:
            return self.refuse(request, 400, str(exc))
        headers = header_dict(request)
        info = pipeline.RequestInfo(
            ip=client_ip(request.client.host if request.client else None, headers, self.proxies, self.real_ip_header),
            user_agent=headers.get("user-agent", ""),
            gpc=headers.get("sec-gpc") == "1",
            dnt=headers.get("dnt") == "1",
        )
        limited = self.limits.check(info.ip, (e.site_id for e in events), len(events), now)
        if limited is not None:
            wait, why = limited
            return self.refuse(request, 429, f"{why}; try again in {wait} s", {"retry-after": str(wait)})
        kept: list[Event] = []
        outcome: list[Event | str] = []
        for event, w, seen in zip(events, wire, shown, strict=True):
            event.request_id = ids.request_id(now)
            if w.cookieless:  # nothing from the browser: the visitor is a daily salted key
                event.client_visitor_id = await self.cookieless.key(event.site_id, info.ip, info.user_agent)
                event.cross_domain_visitor_id = event.client_session_id = None
            sender = info if not (w.gpc or w.dnt) else info.with_signals(bool(w.gpc), bool(w.dnt))
            site = await self.sites.get(event.site_id)
            reason = pipeline.run(pipeline.Candidate(event, site, sender, self.context, seen))
            if reason is None:
                kept.append(event)
                outcome.append(event)
            else:
                site_key = "" if reason == "unknown_site" else event.site_id
                self.filtered.add(site_key, reason, info.user_agent, now, event.href)
                self.metrics.dropped.labels(reason).inc()
                outcome.append(reason)
        if kept:
            try:
                await self.sink(kept)
            except Unwritable as exc:
                return self.refuse(request, 400, str(exc))
            except (WriterGone, WriterFault):
                return self.refuse(request, 503, "the event writer restarted; nothing was stored, send again")
            self.metrics.accepted.inc(len(kept))
        self.metrics.latency.observe(time.perf_counter() - started)
        return accepted(request, outcome, single)


def accepted(request: Request, outcome: list[Event | str], single: bool) -> Response:
    def view(item: Event | str) -> dict[str, object]:
        if isinstance(item, str):
            return {"dropped": item}
        # the browser's own id, always: a browser matched by its device signals is only presumed to
        # be the visitor it matched, and is never handed that visitor's id (docs/identity.md)
        answer: dict[str, object] = {
            "visitorId": item.browser_id,
            "sessionId": item.session_id,
            "requestId": item.request_id,
        }
        if item.browser_id != item.visitor_id:
            answer["browserId"] = item.browser_id  # 0.1.0's trackers keep this one
            answer["presumed"] = {"by": "device", "confidence": item.confidence}
        if item.type == "identification":  # what Fingerprint's agent answers
            answer |= {"visitorFound": not item.new_visitor, "confidence": {"score": item.confidence}}
        return answer

    body: dict[str, object]
    if single:
        body = view(outcome[0])
        headers = {DROP_HEADER: str(body["dropped"])} if "dropped" in body else {}
    else:
        rows = [view(o) for o in outcome]
        dropped = Counter(str(r["dropped"]) for r in rows if "dropped" in r)
        body = {"accepted": len(rows) - sum(dropped.values()), "dropped": sum(dropped.values()), "events": rows}
        headers = {DROP_HEADER: ",".join(sorted(dropped))} if dropped else {}
    return Response(_json.encode(body), 202, headers={**headers, **cors(request)}, media_type="application/json")


def header_dict(request: Request) -> dict[str, str]:
    """The request's headers as a plain dict, the first of repeated ones winning as in Starlette's
    `Headers.get` (which scans the list on every look-up; the collect path makes six)."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(request.scope["headers"])}


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes (declared or sent). Read from the ASGI messages directly:
    Starlette's `request.stream()` wraps them in an async generator, a few microseconds a request."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks = bytearray()
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        body: bytes = message.get("body", b"")
        if not chunks and not message.get("more_body", False):  # the usual case: one message
            if len(body) > limit:
                raise TooLarge
            return body
        chunks += body
        if len(chunks) > limit:
            raise TooLarge
        if not message.get("more_body", False):
            return bytes(chunks)


def cors(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not origin:
        return {}
    return {"access-control-allow-origin": origin, "vary": "Origin", "access-control-expose-headers": DROP_HEADER}


def preflight(request: Request) -> Response:
    return Response(
        status_code=204,
        headers={
            **cors(request),
            "access-control-allow-methods": "POST, GET, OPTIONS",
            "access-control-allow-headers": request.headers.get("access-control-request-headers", "content-type"),
            "access-control-max-age": "86400",
        },
    )


def error(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """DataFast's error envelope."""
    body = {"status": "error", "error": {"code": status, "message": message}}
    return Response(
        _json.encode(body), status, headers={**cors(request), **(headers or {})}, media_type="application/json"
    )
