"""Funnels in the DataFast dialect (docs/api.md, "Funnels"; queries/funnels.py has the definitions):
saved funnels (`funnels:write` to make or delete one) and their results over any range and filters
(`funnels:read` or `analytics:read`), or the results of steps given in the query."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from footfall.api.auth import Authenticator, Caller
from footfall.api.bodies import json_as
from footfall.api.errors import ApiError
from footfall.clock import Clock
from footfall.queries import analytics as a
from footfall.queries import funnels
from footfall.queries.ranges import BadQuery
from footfall.store.base import Store, Tx


class FunnelBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    steps: list[dict[str, Any] | str]  # {"type", "value"}, or "page:/pricing" as in the query


def router(store: Store, auth: Authenticator, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/api/v1/funnels", tags=["Funnels"])

    async def reader(request: Request) -> Caller:
        try:  # DataFast's own permission, or the analytics one every footfall read key has
            return await auth.site_caller(request, "funnels:read")
        except ApiError as exc:
            if exc.status != 403:
                raise
            return await auth.site_caller(request, "analytics:read")

    async def result(caller: Caller, request: Request, steps: list[funnels.Step]) -> dict[str, Any]:
        try:
            query = a.parse(request.query_params, caller.site.timezone)
        except BadQuery as exc:
            raise ApiError(400, str(exc)) from exc
        return await run_in_threadpool(store.read, lambda tx: funnels.funnel(tx, caller.site.num, query, steps))

    @api.get("", summary="List funnels")
    async def list_funnels(request: Request) -> dict[str, Any]:
        caller = await reader(request)
        found = await run_in_threadpool(store.read, lambda tx: funnels.saved(tx, caller.site.num))
        return {"status": "success", "data": found}

    @api.post("", summary="Make a funnel", status_code=201)
    async def make_funnel(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "funnels:write")
        given = await json_as(request, FunnelBody, 'a funnel is {name, steps: [{"type": "page" | "goal", "value"}]}')
        try:
            steps = funnels.steps_of(given.steps)
            made = await run_in_threadpool(
                store.write, lambda tx: funnels.save(tx, caller.site.num, given.name, steps, clock.now_ms())
            )
        except BadQuery as exc:
            raise ApiError(400, str(exc)) from exc
        return {"status": "success", "data": made}

    @api.get("/analysis", summary="Results of steps given in the query")
    async def analysis(request: Request) -> dict[str, Any]:
        caller = await reader(request)
        try:
            steps = funnels.steps_of(request.query_params.getlist("step"))
        except BadQuery as exc:
            raise ApiError(400, f"{exc} (step=page:/pricing&step=goal:signup)") from exc
        return {"status": "success", "data": await result(caller, request, steps)}

    @api.get("/{funnel_id}", summary="A funnel and its results")
    async def get_funnel(funnel_id: str, request: Request) -> dict[str, Any]:
        caller = await reader(request)
        found = await run_in_threadpool(store.read, lambda tx: funnels.find(tx, caller.site.num, funnel_id))
        if found is None:
            raise ApiError(404, "Funnel not found on this website")
        steps = funnels.steps_of(found["steps"])
        return {"status": "success", "data": found | await result(caller, request, steps)}

    @api.delete("/{funnel_id}", summary="Delete a funnel")
    async def delete_funnel(funnel_id: str, request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "funnels:write")

        def go(tx: Tx) -> bool:
            return funnels.delete(tx, caller.site.num, funnel_id)

        if not await run_in_threadpool(store.write, go):
            raise ApiError(404, "Funnel not found on this website")
        return {"status": "success", "data": {"id": funnel_id, "deleted": True}}

    return api
