"""The dashboard's administration pages: contacts import, API keys, filtered traffic and site settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall import accounts, filtered, imports, site_metadata
from footfall.accounts import Site
from footfall.dashboard.web import NotFound, Page, Web
from footfall.enrich.user_agent import parse_agent
from footfall.store.base import Tx, dumps

# site settings the settings page turns on and off (docs/tracker.md, docs/identity.md, docs/people.md)
SITE_FLAGS = (
    "respect_gpc",
    "respect_dnt",
    "consent_required",
    "device_signals",
    "form_capture",
    "truncate_ips",
    "link_tokens_shared",
    "keep_automated",
)
PRIVACY_FIELDS = (
    "exclude_ips",
    "exclude_countries",
    "exclude_paths",
    "exclude_hostnames",
    "retention_days",
    "spam_referrers",
)
METADATA_FIELDS = ("name", "logo", "kpi", "kpi_color_scheme", "currency")  # site_metadata.py
FILTERED_DAYS = (1, 7, 30, 90)


def add_routes(web: Web, api: APIRouter) -> None:
    # -- contacts -------------------------------------------------------------------------------------------

    @api.get("/sites/{site_id}/contacts")
    @web.guarded
    async def contacts(request: Request, site_id: str) -> Response:
        return web.html("contacts.html", await web.page_for(request, site_id), result=None, error=None)

    @api.post("/sites/{site_id}/contacts")
    @web.guarded
    async def import_contacts(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here
        form = await web.form_of(request, page)
        try:
            people_rows, company_rows = imports.parse(form.get("csv", "").encode(), "text/csv")
        except imports.BadImport as exc:
            return web.html("contacts.html", page, 400, result=None, error=str(exc))
        now = web.clock.now_ms()
        result = await run_in_threadpool(
            web.store.write, lambda tx: imports.import_rows(tx, site, people_rows, company_rows, now, web.links)
        )
        return web.html("contacts.html", page, result=result, error=None)

    # -- API keys -------------------------------------------------------------------------------------------

    async def keys_page(request: Request, page: Page, status: int = 200, **extra: Any) -> Response:
        account = page.session.user.account_id
        found = await run_in_threadpool(web.store.read, lambda tx: accounts.list_keys(tx, account))
        domains = {site.id: site.domain for site in page.sites}
        values = {"keys": found, "scopes": accounts.SCOPES, "domains": domains, "made": None, "error": None} | extra
        return web.html("keys.html", page, status, **values)

    @api.get("/keys")
    @web.guarded
    async def keys(request: Request) -> Response:
        return await keys_page(request, await web.page_for(request))

    @api.post("/keys")
    @web.guarded
    async def add_key(request: Request) -> Response:
        page = await web.page_for(request)
        form = await web.form_of(request, page)
        scopes, site_id = form.getlist("scope"), form.get("site") or None
        now, account = web.clock.now_ms(), page.session.user.account_id
        try:
            clear, _ = await run_in_threadpool(
                web.store.write,
                lambda tx: accounts.create_key(tx, account, scopes, now, site_id=site_id, name=form.get("name", "")),
            )
        except accounts.InvalidInput as exc:
            return await keys_page(request, page, 400, error=str(exc))
        return await keys_page(request, page, made=clear)

    @api.post("/keys/{key_id}/revoke")
    @web.guarded
    async def revoke_key(request: Request, key_id: str) -> Response:
        page = await web.page_for(request)
        await web.form_of(request, page)
        now, account = web.clock.now_ms(), page.session.user.account_id
        try:
            await run_in_threadpool(web.store.write, lambda tx: accounts.revoke_key(tx, account, key_id, now))
        except accounts.InvalidInput:
            raise NotFound from None
        return web.redirect("/keys")

    # -- filtered traffic -----------------------------------------------------------------------------------

    @api.get("/sites/{site_id}/filtered")
    @web.guarded
    async def filtered_traffic(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here
        raw = request.query_params.get("days", "30")
        days = int(raw) if raw.isdigit() and int(raw) in FILTERED_DAYS else 30
        now = web.clock.now_ms()
        first = datetime.fromtimestamp((now - (days - 1) * 86_400_000) / 1000, UTC).strftime("%Y-%m-%d")
        last = datetime.fromtimestamp(now / 1000, UTC).strftime("%Y-%m-%d")

        def read(tx: Tx) -> tuple[list[dict[str, Any]], int]:
            rows = filtered.read(tx, site.id, first, last)
            since = now - days * 86_400_000
            kept = tx.one("SELECT COUNT(*) AS n FROM events WHERE site_num = ? AND ts >= ?", (site.num, since))
            return rows, int(kept["n"]) if kept else 0

        rows, kept = await run_in_threadpool(web.store.read, read)
        for row in rows:  # what the samples say they are: real phones would show here
            kinds = {parse_agent(ua).device_type or "unknown" for ua in row["samples"]}
            row["devices"] = ", ".join(sorted(kinds))
        return web.html(
            "filtered.html", page, rows=rows, totals=filtered.totals(rows), kept=kept, days=days,
            choices=FILTERED_DAYS, first=first, last=last,
        )  # fmt: skip

    # -- site settings --------------------------------------------------------------------------------------

    @api.get("/sites/{site_id}/settings")
    @web.guarded
    async def site_settings(request: Request, site_id: str) -> Response:
        return web.html("settings.html", await web.page_for(request, site_id), saved=False, error=None)

    @api.post("/sites/{site_id}/settings")
    @web.guarded
    async def save_settings(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here
        form = await web.form_of(request, page)
        timezone = form.get("timezone", "UTC").strip() or "UTC"
        try:
            ZoneInfo(timezone)
        except (ValueError, KeyError):
            return web.html("settings.html", page, 400, saved=False, error=f"unknown timezone {timezone!r}")
        hostnames = [h.strip().lower() for h in form.get("allowed_hostnames", "").split(",") if h.strip()]
        goals = [g.strip() for g in form.get("conversion_goals", "").split(",") if g.strip()]
        changes: dict[str, Any] = {flag: form.get(flag) == "on" for flag in SITE_FLAGS}
        changes["conversion_goals"] = goals
        try:
            changes |= accounts.privacy_changes({name: form.get(name, "") for name in PRIVACY_FIELDS})
            changes |= site_metadata.changes({name: form.get(name, "") for name in METADATA_FIELDS})
        except (accounts.InvalidInput, site_metadata.InvalidMetadata) as exc:
            return web.html("settings.html", page, 400, saved=False, error=str(exc))

        def go(tx: Tx) -> Site:
            tx.execute(
                "UPDATE sites SET timezone = ?, allowed_hostnames = ? WHERE id = ?",
                (timezone, dumps(hostnames), site.id),
            )
            return accounts.update_site_settings(tx, site.id, changes)

        page.site = await run_in_threadpool(web.store.write, go)
        page.sites = [page.site if s.id == site.id else s for s in page.sites]
        return web.html("settings.html", page, saved=True, error=None)
