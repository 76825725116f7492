"""API keys: `Authorization: Bearer <key>`, scopes, and which site a request may touch.

A site key works on its own site only. An account key names the site with
`?websiteId=` (DataFast's account tokens) and reaches any site of its account.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from footfall import accounts
from footfall.accounts import ApiKey
from footfall.api.errors import ApiError
from footfall.model import Site
from footfall.store.base import Store

# Dialects whose 401 messages (missing key, unknown key) are fixed by the API they copy.
UNAUTHORIZED = {
    "postmetric": ("Unauthorized. Invalid or missing API key.",) * 2,
    "floqer": ("API key is required", "Invalid API key"),
}
DEFAULT_UNAUTHORIZED = ("Missing API key: send Authorization: Bearer <key>", "Invalid or revoked API key")


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    site: Site


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class Authenticator:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def key(self, token: str | None, dialect: str) -> ApiKey:
        missing, unknown = UNAUTHORIZED.get(dialect, DEFAULT_UNAUTHORIZED)
        if not token:
            raise ApiError(401, missing, dialect=dialect)
        key = await run_in_threadpool(self.store.read, lambda tx: accounts.find_key(tx, token))
        if key is None:
            raise ApiError(401, unknown, dialect=dialect)
        return key

    async def site_caller(self, request: Request, scope: str, dialect: str = "datafast") -> Caller:
        key = await self.key(bearer(request), dialect)
        if not key.allows(scope):
            raise ApiError(403, f"This API key lacks the '{scope}' permission", dialect=dialect)
        wanted = request.query_params.get("websiteId")
        site_id = key.site_id or wanted
        if site_id is None:
            raise ApiError(400, "websiteId is required with an account key", dialect=dialect)
        if key.site_id and wanted and wanted != key.site_id:
            raise ApiError(403, "This API key belongs to another website", dialect=dialect)
        site = await run_in_threadpool(self.store.read, lambda tx: accounts.get_site(tx, site_id))
        if site is None or site.account_id != key.account_id:
            raise ApiError(403 if site else 404, "Website not found for this API key", dialect=dialect)
        return Caller(key, site)
