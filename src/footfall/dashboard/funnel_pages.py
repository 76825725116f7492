"""The funnels page (docs/dashboard.md, "Funnels"): a site's saved funnels, a form to try steps
and save them, and a funnel's results over a period and filters: visitors per step, conversion,
drop-off and the visitors who dropped, each opening their journey (queries/funnels.py)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.dashboard.overview import PERIODS, period_range
from footfall.dashboard.web import NotFound, Page, Web
from footfall.queries import analytics as a
from footfall.queries import funnels
from footfall.queries.ranges import BadQuery
from footfall.store.base import Tx


def steps_from_text(text: str) -> list[funnels.Step]:
    """One step a line: `page /pricing*`, `goal signup` (or `page:/pricing`)."""
    given = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            kind, _, value = line.replace(":", " ", 1).partition(" ")
            given.append(f"{kind.strip().lower()}:{value.strip()}")
    return funnels.steps_of(given)


def text_of(steps: list[dict[str, str]]) -> str:
    return "\n".join(f"{s['type']} {s['value']}" for s in steps)


def add_routes(web: Web, api: APIRouter) -> None:
    async def show(request: Request, page: Page, chosen: dict[str, Any] | None, text: str, status: int = 200,
                   error: str | None = None) -> Response:  # fmt: skip
        site = page.here
        given = dict(request.query_params)
        period = given.get("period") or "30d"
        span = period_range(period, ZoneInfo(site.timezone), web.clock.now_ms())
        params = {k: v for k, v in given.items() if k.startswith("filter_")}
        if span:
            params |= {"startAt": span[0], "endAt": span[1]}
        result = None
        try:
            query = a.parse(params, site.timezone)
            steps = funnels.steps_of(chosen["steps"]) if chosen else steps_from_text(text) if text else None
            if steps:
                result = await run_in_threadpool(web.store.read, lambda tx: funnels.funnel(tx, site.num, query, steps))
        except BadQuery as exc:
            status, error = 400, str(exc)
        saved = await run_in_threadpool(web.store.read, lambda tx: funnels.saved(tx, site.num))
        return web.html(
            "funnels.html", page, status, saved=saved, chosen=chosen, text=text, result=result, error=error,
            period=period, periods=PERIODS, filtered=any(k.startswith("filter_") for k in params), given=given,
        )  # fmt: skip

    @api.get("/sites/{site_id}/funnels")
    @web.guarded
    async def funnel_list(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        return await show(request, page, None, request.query_params.get("steps", "")[:5000])

    @api.post("/sites/{site_id}/funnels")
    @web.guarded
    async def funnel_save(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        form = await web.form_of(request, page)
        text, num, now = form.get("steps", "")[:5000], page.here.num, web.clock.now_ms()
        try:
            steps = steps_from_text(text)
            made = await run_in_threadpool(
                web.store.write, lambda tx: funnels.save(tx, num, form.get("name", ""), steps, now)
            )
        except BadQuery as exc:
            return await show(request, page, None, text, 400, str(exc))
        return web.redirect(f"/sites/{site_id}/funnels/{made['id']}")

    @api.get("/sites/{site_id}/funnels/{funnel_id}")
    @web.guarded
    async def funnel_page(request: Request, site_id: str, funnel_id: str) -> Response:
        page = await web.page_for(request, site_id)
        num = page.here.num
        chosen = await run_in_threadpool(web.store.read, lambda tx: funnels.find(tx, num, funnel_id))
        if chosen is None:
            raise NotFound
        return await show(request, page, chosen, text_of(chosen["steps"]))

    @api.post("/sites/{site_id}/funnels/{funnel_id}/delete")
    @web.guarded
    async def funnel_delete(request: Request, site_id: str, funnel_id: str) -> Response:
        page = await web.page_for(request, site_id)
        await web.form_of(request, page)
        num = page.here.num

        def go(tx: Tx) -> bool:
            return funnels.delete(tx, num, funnel_id)

        if not await run_in_threadpool(web.store.write, go):
            raise NotFound
        return web.redirect(f"/sites/{site_id}/funnels")
