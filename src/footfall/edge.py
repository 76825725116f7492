"""The first thing every request meets (docs/reliability.md, "Limits"): a plain ASGI layer in front
of the app that refuses, in the envelope of the API the path belongs to:

- more than `MAX_HEADERS` headers or `MAX_HEADER_BYTES` of them (431): uvicorn's httptools parser
  has no limit of its own, so the proxy in front should bound them too (docs/deploy.md);
- a NUL in the path or the query string (400): no store keeps it, and PostgreSQL refuses it;
- a body past its limit (413), declared or streamed, on every route but collect's, which reads
  its body within `FOOTFALL_MAX_BODY_BYTES` itself: `FOOTFALL_MAX_BODY_BYTES` everywhere, and
  `FOOTFALL_MAX_IMPORT_BYTES` for contacts imports. A streamed body stops being read at the limit.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall.api.errors import ApiError, dialect_for_path, render

MAX_HEADERS = 100
MAX_HEADER_BYTES = 65_536
SELF_LIMITED = frozenset({"/api/events", "/api/events/batch", "/api/track"})  # collect: ingest/endpoint.py
IMPORTS = re.compile(r"^(/api/v1/contacts/import|/sites/[^/]+/contacts)$")


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes its limit (the app answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit = limit


class Edge:
    def __init__(self, app: ASGIApp, max_body: int, max_import: int) -> None:
        self.app, self.max_body, self.max_import = app, max_body, max_import

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        path: str = scope["path"]
        if len(headers) > MAX_HEADERS or sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES:
            await self._refuse(scope, receive, send, 431, f"at most {MAX_HEADERS} headers of {MAX_HEADER_BYTES} bytes")
            return
        query: bytes = scope.get("query_string", b"")
        if "\x00" in path or b"%00" in query or b"\x00" in query:  # the path comes decoded
            await self._refuse(scope, receive, send, 400, "the path or query contains a NUL character")
            return
        if path in SELF_LIMITED or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.max_import if IMPORTS.match(path) else self.max_body
        declared = next((v for k, v in headers if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, 413, f"body larger than {limit} bytes")
            return
        await self.app(scope, _bounded(receive, limit), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        path = scope["path"].replace("\x00", "")
        response = render(ApiError(status, message, dialect=dialect_for_path(path)))
        await response(scope, receive, send)


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return bounded
