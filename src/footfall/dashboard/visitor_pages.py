"""The visitor page (docs/dashboard.md, "Visitor"): any visitor, anonymous or identified, opens at
`/sites/<site>/visitors/<visitor id>` with its whole journey (queries/journey.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.dashboard.web import NotFound, Web
from footfall.queries.journey import journey


def add_routes(web: Web, api: APIRouter) -> None:
    @api.get("/sites/{site_id}/visitors/{visitor_id}")
    @web.guarded
    async def visitor(request: Request, site_id: str, visitor_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here
        goals = list(site.settings.get("conversion_goals", []))
        found = await run_in_threadpool(
            web.store.read, lambda tx: journey(tx, site.id, site.num, goals, visitor_id[:64])
        )
        if found is None:
            raise NotFound
        return web.html("visitor.html", page, visitor=found)
