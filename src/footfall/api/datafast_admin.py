"""DataFast's account admin routes (../shared/specs/datafast.md 1.4; docs/api.md):
`GET`/`POST /api/v1/admin/access-tokens`, `DELETE /api/v1/admin/access-tokens/{tokenId}`,
`GET`/`PUT /api/v1/admin/account`.

DataFast's `dft_` account tokens are footfall's account keys (keys without a site) and its `df_`
website keys footfall's site keys. The rules are DataFast's: a website key may not manage tokens
(403); listing needs `api-keys:read`, creating and deleting `api-keys:write`; a token is created
with at most its creator's permissions; the raw token is answered once. `websiteIds: []` means
every website, as in DataFast; a footfall key reaches one website or all of them, so a list of
several is refused (400) rather than widened. The account routes need an account key with
`settings:read` (`settings:write` to rename).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from footfall import accounts
from footfall.accounts import ApiKey
from footfall.api.auth import Authenticator, bearer
from footfall.api.bodies import json_object
from footfall.api.errors import ApiError
from footfall.clock import Clock, iso_ms
from footfall.store.base import Store, Tx


def token_json(key: ApiKey, clear: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": key.id,
        "name": key.name,
        "displayKey": key.prefix + "…",
        "permissions": list(key.scopes),
        "websiteIds": [key.site_id] if key.site_id else [],
        "createdAt": iso_ms(key.created_at),
        "revokedAt": iso_ms(key.revoked_at),
    }
    if clear is not None:
        body["key"] = clear  # once, at creation
    return body


def _name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ApiError(400, "name is required (at most 100 characters)")
    return name.strip()


def _strings(raw: Any, field: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise ApiError(400, f"{field} must be an array of strings")
    return list(raw)


def router(store: Store, auth: Authenticator, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/api/v1/admin", tags=["DataFast admin"])

    async def account_caller(request: Request, permission: str) -> ApiKey:
        key = await auth.key(bearer(request), "datafast")
        if key.site_id is not None:
            raise ApiError(403, "Website API keys cannot use the account admin API: use an account token")
        if not key.allows(permission):
            raise ApiError(403, f"This API key lacks the '{permission}' permission")
        return key

    @api.get("/access-tokens", summary="List account tokens")
    async def list_tokens(request: Request) -> dict[str, Any]:
        key = await account_caller(request, "api-keys:read")
        found = await run_in_threadpool(store.read, lambda tx: accounts.list_keys(tx, key.account_id))
        return {"status": "success", "data": [token_json(k) for k in found if k.revoked_at is None]}

    @api.post("/access-tokens", summary="Create an account token")
    async def create_token(request: Request) -> dict[str, Any]:
        caller = await account_caller(request, "api-keys:write")
        body = await json_object(request)
        name = _name(body)
        permissions = _strings(body.get("permissions"), "permissions")
        if not permissions:
            raise ApiError(400, "permissions is required: a non-empty array")
        unknown = [p for p in permissions if p not in accounts.SCOPES]
        if unknown:
            raise ApiError(400, f"unknown permissions: {', '.join(unknown)}")
        beyond = [p for p in permissions if not caller.allows(p) or (p == "*" and "*" not in caller.scopes)]
        if beyond:
            raise ApiError(403, f"A token cannot have permissions its creator lacks: {', '.join(beyond)}")
        websites = _strings(body.get("websiteIds"), "websiteIds")
        if len(websites) > 1:
            raise ApiError(400, "footfall's tokens reach one website or all of them ([]): create one token per website")

        def go(tx: Tx) -> tuple[str, ApiKey]:
            site = websites[0] if websites else None
            if site is not None and accounts.get_site(tx, site) is None:
                raise ApiError(404, "Website not found")
            return accounts.create_key(tx, caller.account_id, permissions, clock.now_ms(), site_id=site, name=name)

        try:
            clear, key = await run_in_threadpool(store.write, go)
        except accounts.InvalidInput as exc:
            raise ApiError(404 if "no site" in str(exc) else 400, str(exc)) from exc
        return {"status": "success", "data": [token_json(key, clear)]}

    @api.delete("/access-tokens/{token_id}", summary="Delete an account token")
    async def delete_token(token_id: str, request: Request) -> dict[str, Any]:
        caller = await account_caller(request, "api-keys:write")

        def go(tx: Tx) -> ApiKey | None:
            row = tx.one("SELECT id FROM api_keys WHERE id = ? AND account_id = ?", (token_id, caller.account_id))
            return None if row is None else accounts.revoke_key(tx, caller.account_id, token_id, clock.now_ms())

        key = await run_in_threadpool(store.write, go)
        if key is None:
            raise ApiError(404, "Access token not found")
        return {"status": "success", "data": [{"id": key.id, "message": "Access token deleted"}]}

    def account_json(tx: Tx, account_id: str) -> dict[str, Any]:
        row = tx.one("SELECT id, name, created_at FROM accounts WHERE id = ?", (account_id,))
        assert row is not None  # a key's account exists while the key does
        sites = tx.one("SELECT COUNT(*) AS n FROM sites WHERE account_id = ?", (account_id,))
        return {
            "id": row["id"],
            "name": row["name"],
            "createdAt": iso_ms(row["created_at"]),
            # self-hosted: no plan limits; what DataFast's plan object would bound is counted instead
            "plan": {"name": "self-hosted", "websites": sites["n"] if sites else 0},
        }

    @api.get("/account", summary="The account's profile and plan")
    async def get_account(request: Request) -> dict[str, Any]:
        key = await account_caller(request, "settings:read")
        return {
            "status": "success",
            "data": await run_in_threadpool(store.read, lambda tx: account_json(tx, key.account_id)),
        }

    @api.put("/account", summary="Rename the account")
    async def put_account(request: Request) -> dict[str, Any]:
        key = await account_caller(request, "settings:write")
        body = await json_object(request)
        name = _name(body)

        def go(tx: Tx) -> dict[str, Any]:
            tx.execute("UPDATE accounts SET name = ? WHERE id = ?", (name, key.account_id))
            return account_json(tx, key.account_id)

        return {"status": "success", "data": await run_in_threadpool(store.write, go)}

    return api
