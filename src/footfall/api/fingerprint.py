"""Fingerprint Server API v3, as footfall speaks it: `GET`/`DELETE /visitors/{visitor_id}`,
`GET`/`PUT /events/{request_id}`, `GET /events/search`, `GET /related-visitors`.

Schemas from Fingerprint's v3 OpenAPI (../shared/specs/fingerprint-v3.md); the official SDKs
(PyPI `fingerprint-pro-server-api-sdk` 8.x, npm `@fingerprintjs/fingerprintjs-pro-server-api` 6.x)
are the clients the tests use. Auth: `Auth-API-Key` header or `api_key` query (and the legacy
`Auth-Token` / `token`), a footfall key with the `fingerprint:read` scope (`fingerprint:write` to
change or delete); a site key reaches its site's visitors, an account key any site of its account.
Errors: `GET /visitors` uses Fingerprint's plain form `{"error": "..."}`, the others the structured
`{"error": {"code", "message"}}`, unknown routes under these paths included (`not_found`). Each
key may make 5 requests a second with bursts of 15 (Fingerprint's default account limits;
FOOTFALL_FINGERPRINT_RATE and _BURST); beyond that, 429 with `Retry-After`. The buckets live in
each server process. What is read: api/fingerprint_events.py; the smart signals:
api/fingerprint_signals.py; the search: api/fingerprint_search.py.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from footfall import accounts
from footfall.accounts import ApiKey
from footfall.api.fingerprint_events import (
    UPDATE,
    delete_visitor_data,
    event_body,
    parse_query,
    related_visitors,
    update_identification,
    visits,
)
from footfall.api.fingerprint_search import parse_search, search_events
from footfall.api.fingerprint_signals import Lookups
from footfall.clock import Clock
from footfall.enrich.geo import GeoLookup
from footfall.enrich.networks import HostingNetworks
from footfall.ids import is_uuid
from footfall.store.base import Store

RATE_PER_SECOND = 5.0


BURST = 15.0


def plain(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=headers)


def structured(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


FORBIDDEN = "Forbidden (HTTP 403)"
PREFIXES = ("/events", "/visitors", "/related-visitors")
CODES = {400: "RequestCannotBeParsed", 403: "TokenRequired", 409: "StateNotReady", 429: "TooManyRequests"}


def owns(path: str) -> bool:
    """Whether a path is under Fingerprint's routes (its errors then take Fingerprint's envelope)."""
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


def framework_error(path: str, status: int, message: str) -> JSONResponse:
    """An error the framework raised on a Fingerprint path (no such route, method or body), in
    Fingerprint's structured form; GET /visitors answers in its plain form."""
    if path.startswith("/visitors/") and status in (400, 403, 429):
        return plain(status, "bad request" if status == 400 else message)
    if status == 404:
        code = "VisitorNotFound" if path.startswith(("/visitors", "/related-visitors")) else "RequestNotFound"
        return structured(404, code, "visitor not found" if code == "VisitorNotFound" else "request id is not found")
    return structured(status, CODES.get(status, "Failed"), message)


@dataclass
class RateLimiter:
    """A token bucket per key: `rate` a second, up to `burst` at once."""

    rate: float = RATE_PER_SECOND
    burst: float = BURST
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait(self, key: str, now: float | None = None) -> float:
        """0 when the request may go (a token is taken), else the seconds until one is free."""
        now = time.monotonic() if now is None else now
        tokens, then = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


def api_key_of(request: Request) -> str | None:
    h, q = request.headers, request.query_params
    return h.get("auth-api-key") or q.get("api_key") or h.get("auth-token") or q.get("token") or None


def routes(
    store: Store,
    geo: GeoLookup,
    clock: Clock,
    limiter: RateLimiter | None = None,
    hosting: HostingNetworks | None = None,
) -> list[Route]:
    limiter = limiter or RateLimiter()
    look = Lookups(geo, hosting or HostingNetworks())

    async def caller(request: Request, scope: str, plain_errors: bool = False) -> ApiKey | Response:
        token = api_key_of(request)
        key = await run_in_threadpool(store.read, lambda tx: accounts.find_key(tx, token)) if token else None
        if key is None or not key.allows(scope):
            if plain_errors:
                return plain(403, FORBIDDEN)
            if token is None:
                return structured(403, "TokenRequired", "secret key is required")
            if key is None:
                return structured(403, "TokenNotFound", "secret key is not found")
            return structured(403, "FeatureNotEnabled", "feature not enabled")
        wait = limiter.wait(key.id)
        if wait:
            retry = {"retry-after": str(max(1, math.ceil(wait)))}
            too_many = "too many requests"
            return plain(429, too_many, retry) if plain_errors else structured(429, "TooManyRequests", too_many, retry)
        return key

    async def get_visits(request: Request) -> Response:
        key = await caller(request, "fingerprint:read", plain_errors=True)
        if isinstance(key, Response):
            return key
        query = parse_query(request)
        visitor_id = request.path_params["visitor_id"]
        if query is None or not visitor_id:
            return plain(400, "bad request")
        body = await run_in_threadpool(store.read, lambda tx: visits(tx, key, visitor_id, query, look))
        return JSONResponse(body)

    async def delete_visitor(request: Request) -> Response:
        key = await caller(request, "fingerprint:write")
        if isinstance(key, Response):
            return key
        visitor_id = request.path_params["visitor_id"]
        if not is_uuid(visitor_id):
            return structured(400, "RequestCannotBeParsed", "invalid visitor id")
        now = clock.now_ms()
        deleted = await run_in_threadpool(store.write, lambda tx: delete_visitor_data(tx, key, visitor_id, now))
        await run_in_threadpool(store.scrub)
        return Response(status_code=200) if deleted else structured(404, "VisitorNotFound", "visitor not found")

    async def get_event(request: Request) -> Response:
        key = await caller(request, "fingerprint:read")
        if isinstance(key, Response):
            return key
        request_id = request.path_params["request_id"]
        body = await run_in_threadpool(store.read, lambda tx: event_body(tx, key, request_id, look))
        if body is None:
            return structured(404, "RequestNotFound", "request id is not found")
        return JSONResponse(body)

    async def update_event(request: Request) -> Response:
        key = await caller(request, "fingerprint:write")
        if isinstance(key, Response):
            return key
        try:
            changes = UPDATE.decode(await request.body())
        except msgspec.DecodeError:
            return structured(400, "RequestCannotBeParsed", "request body is not valid")
        request_id = request.path_params["request_id"]
        updated = await run_in_threadpool(store.write, lambda tx: update_identification(tx, key, request_id, changes))
        return Response(status_code=200) if updated else structured(404, "RequestNotFound", "request id is not found")

    async def search(request: Request) -> Response:
        key = await caller(request, "fingerprint:read")
        if isinstance(key, Response):
            return key
        query = parse_search(request.query_params, clock.now_ms())
        if isinstance(query, str):
            return structured(400, "RequestCannotBeParsed", query)
        body = await run_in_threadpool(store.read, lambda tx: search_events(tx, key, query, look))
        return JSONResponse(body)

    async def related(request: Request) -> Response:
        key = await caller(request, "fingerprint:read")
        if isinstance(key, Response):
            return key
        visitor_id = request.query_params.get("visitor_id")
        if not visitor_id:
            return structured(400, "RequestCannotBeParsed", "visitor id is required")
        if not is_uuid(visitor_id.lower()):
            return structured(400, "RequestCannotBeParsed", "invalid visitor id")
        found = await run_in_threadpool(store.read, lambda tx: related_visitors(tx, key, visitor_id))
        if found is None:
            return structured(404, "VisitorNotFound", "visitor not found")
        return JSONResponse({"relatedVisitors": found})

    return [
        Route("/events/search", search, methods=["GET"]),
        Route("/visitors/{visitor_id}", get_visits, methods=["GET"]),
        Route("/visitors/{visitor_id}", delete_visitor, methods=["DELETE"]),
        Route("/events/{request_id}", get_event, methods=["GET"]),
        Route("/events/{request_id}", update_event, methods=["PUT"]),
        Route("/related-visitors", related, methods=["GET"]),
    ]
