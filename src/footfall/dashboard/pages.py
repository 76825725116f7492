"""The dashboard's reading pages (docs/dashboard.md): sites, overview, realtime, people, companies,
visitors and the install page. `router` builds the whole dashboard from its groups of pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall import accounts, filtered
from footfall.api.people import ORDERS
from footfall.clock import Clock
from footfall.dashboard import (
    admin,
    exports,
    funnel_pages,
    login,
    overview,
    person_actions,
    visitor_pages,
    workflow_pages,
)
from footfall.dashboard.web import NotFound, Web, templates, with_params
from footfall.enrich.networks import HostingNetworks
from footfall.ids import LinkSigner
from footfall.outbound import Outbound
from footfall.queries import realtime as live
from footfall.queries import visitor_list
from footfall.queries.companies import companies
from footfall.queries.people import person_body, person_detail
from footfall.queries.segments import site_segments
from footfall.scoring.predictions import site_scoring
from footfall.settings import Settings
from footfall.store.base import Store, Tx
from footfall.tracker import LOCAL_DOMAINS, snippet

PEOPLE_PAGE = 50
DONE = {  # what the person page's actions say when they come back (person_actions.py)
    "merged": "Merged: the other person's ids, visits and payments are this person's now.",
    "split": "Done: that browser and its visits are no longer this person's.",
    "unknown": "Nothing changed: no such person (or no such browser of this person).",
    "same": "Nothing changed: that is this person.",
}
REALTIME_PAGE = 50
SCAN_LIMIT = 2000  # people read to apply segment and score filters


def router(
    store: Store, clock: Clock, settings: Settings, hosting: HostingNetworks, links: LinkSigner, outbound: Outbound
) -> APIRouter:
    web = Web(store, clock, settings, hosting, links, outbound, templates())
    api = APIRouter(include_in_schema=False)
    login.add_routes(web, api)
    add_routes(web, api)
    workflow_pages.add_routes(web, api)
    admin.add_routes(web, api)
    exports.add_routes(web, api)
    visitor_pages.add_routes(web, api)
    overview.add_routes(web, api)
    funnel_pages.add_routes(web, api)
    person_actions.add_routes(web, api)
    return api


def add_routes(web: Web, api: APIRouter) -> None:
    # -- sites ----------------------------------------------------------------------------------------

    @api.get("/")
    @web.guarded
    async def home(request: Request) -> Response:
        page = await web.page_for(request)
        return web.redirect(f"/sites/{page.sites[0].id}/") if page.sites else web.redirect("/sites")

    @api.get("/sites")
    @web.guarded
    async def sites(request: Request) -> Response:
        return web.html("sites.html", await web.page_for(request), error=None)

    @api.post("/sites")
    @web.guarded
    async def add_site(request: Request) -> Response:
        page = await web.page_for(request)
        form = await web.form_of(request, page)
        now = web.clock.now_ms()
        try:
            site = await run_in_threadpool(
                web.store.write,
                lambda tx: accounts.create_site(
                    tx,
                    page.session.user.account_id,
                    form.get("domain", ""),
                    now,
                    timezone=form.get("timezone") or "UTC",
                ),
            )
        except accounts.InvalidInput as exc:
            return web.html("sites.html", page, 400, error=str(exc))
        return web.redirect(f"/sites/{site.id}/install")

    # -- realtime -----------------------------------------------------------------------------------------

    @api.get("/sites/{site_id}/realtime")
    @web.guarded
    async def realtime(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        num, now = page.here.num, web.clock.now_ms()
        try:
            offset = max(0, int(request.query_params.get("offset", "0")[:9]))
        except ValueError:
            offset = 0
        data = await run_in_threadpool(
            web.store.read, lambda tx: live.realtime_map(tx, num, now, 10 * 60_000, REALTIME_PAGE, offset)
        )
        more = data["pagination"]["hasMore"]
        next_page = with_params({}, offset=str(offset + REALTIME_PAGE)) if more else None
        earlier = with_params({}, offset=str(max(0, offset - REALTIME_PAGE))) if offset else None
        return web.html("realtime.html", page, data=data, next_page=next_page, earlier=earlier)

    # -- people ---------------------------------------------------------------------------------------------

    @api.get("/sites/{site_id}/people")
    @web.guarded
    async def people(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here
        q = request.query_params
        search, sort, segment = q.get("q", "").strip().lower(), q.get("sort", "identified"), q.get("segment", "")
        try:
            min_score = float(q["min_score"]) if q.get("min_score") else None
            offset = max(0, int(q.get("offset", "0")))
        except ValueError:
            min_score, offset = None, 0
        order = ORDERS.get(sort, ORDERS["identified"])

        def read(tx: Tx) -> dict[str, Any]:
            where, params = ["p.site_num = ?"], list[Any]([site.num])
            if search:
                where.append("(LOWER(p.name) LIKE ? OR LOWER(p.email) LIKE ? OR LOWER(p.company) LIKE ?)")
                params += [f"%{search}%"] * 3
            clause = " AND ".join(where)
            narrowed = bool(segment or min_score is not None)
            rows = tx.all(
                f"SELECT p.* FROM people p WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
                (*params, SCAN_LIMIT if narrowed else PEOPLE_PAGE + 1, 0 if narrowed else offset),
            )
            bodies = [person_body(tx, r) for r in rows]
            if segment:
                bodies = [b for b in bodies if any(s["segmentId"] == segment for s in b["segments"])]
            if min_score is not None:
                bodies = [b for b in bodies if b["prediction"] and b["prediction"]["score"] >= min_score]
            if narrowed:
                bodies = bodies[offset : offset + PEOPLE_PAGE + 1]
            goals = list(site.settings.get("conversion_goals", []))
            return {
                "people": bodies,
                "segments": site_segments(tx, site.num),
                "scoring": site_scoring(tx, site.num, goals),
            }

        found = await run_in_threadpool(web.store.read, read)
        more = len(found["people"]) > PEOPLE_PAGE
        given = dict(q)
        return web.html(
            "people.html",
            page,
            people=found["people"][:PEOPLE_PAGE],
            segments=found["segments"],
            scoring=found["scoring"],
            given=given,
            next_page=with_params(given, offset=str(offset + PEOPLE_PAGE)) if more else None,
        )

    @api.get("/sites/{site_id}/people/{person_id}")
    @web.guarded
    async def person(request: Request, site_id: str, person_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here

        def read(tx: Tx) -> dict[str, Any] | None:
            row = tx.one("SELECT * FROM people WHERE id = ? AND site_num = ?", (person_id, site.num))
            if row is None:
                return None
            detail = person_detail(tx, row)
            paid = tx.all("SELECT * FROM payments WHERE person_num = ? ORDER BY ts DESC LIMIT 100", (row["num"],))
            scoring = site_scoring(tx, site.num, list(site.settings.get("conversion_goals", [])))
            return {"person": detail, "payments": paid, "scoring": scoring}

        found = await run_in_threadpool(web.store.read, read)
        if found is None:
            raise NotFound
        done = request.query_params.get("done", "")
        return web.html("person.html", page, done=DONE.get(done), failed=done in ("unknown", "same"), **found)

    # -- companies and visitors ----------------------------------------------------------------------------

    @api.get("/sites/{site_id}/companies")
    @web.guarded
    async def company_list(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        num = page.here.num
        found = await run_in_threadpool(web.store.read, lambda tx: companies(tx, num, web.hosting))
        return web.html("companies.html", page, companies=found)

    @api.get("/sites/{site_id}/visitors")
    @web.guarded
    async def visitors(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here
        given = {k: v for k, v in request.query_params.items() if v}
        try:
            query = visitor_list.parse(given | {"limit": "50"}, site.timezone)
        except visitor_list.BadQuery as exc:
            return web.html("visitors.html", page, 400, error=str(exc), visitors=[], given=given, next_page=None)

        def read(tx: Tx) -> dict[str, Any]:
            found = visitor_list.list_visitors(tx, site.num, query)
            people = visitor_list.named(tx, [v["visitorId"] for v in found["data"]])
            for v in found["data"]:
                v["person"] = people.get(v["visitorId"])
            return found

        found = await run_in_threadpool(web.store.read, read)
        more = found["pagination"]["hasMore"]
        next_page = with_params(given, offset=str(query.offset + query.limit)) if more else None
        return web.html("visitors.html", page, error=None, visitors=found["data"], given=given, next_page=next_page)

    # -- install and sources ---------------------------------------------------------------------------------

    @api.get("/sites/{site_id}/install")
    @web.guarded
    async def install(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here

        def read(tx: Tx) -> dict[str, Any]:
            last = tx.one("SELECT ts, href FROM events WHERE site_num = ? ORDER BY ts DESC LIMIT 1", (site.num,))
            sources = tx.all(
                "SELECT o.*, (SELECT COUNT(*) FROM source_rows r WHERE r.source_id = o.id) AS row_count "
                "FROM sources o WHERE o.site_id = ? ORDER BY o.num",
                (site.id,),
            )
            return {
                "last_event": last["ts"] if last else None,
                "last_url": last["href"] if last else None,
                "refused": filtered.latest(tx, site.id),
                "sources": sources,
            }

        found = await run_in_threadpool(web.store.read, read)
        base = web.settings.public_url or str(request.base_url)
        return web.html(
            "install.html",
            page,
            snippet=snippet(base, site.id, site.domain),
            server_url=base.rstrip("/"),
            local=site.domain in LOCAL_DOMAINS,
            **found,
        )
