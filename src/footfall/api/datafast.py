"""The DataFast dialect (footfall's native API): `GET /api/v1/visitors/{visitorId}`.

The response is exactly the schema of the DataFast "Get visitor" seed:
`{"status": "success", "data": {visitorId, identity, activity, profile, prediction}}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from footfall.api.auth import Authenticator
from footfall.api.conversions import payment_goals
from footfall.api.errors import ApiError
from footfall.clock import Clock, iso_ms
from footfall.ids import VisitorSigner, is_uuid
from footfall.model import PARAM_FIELDS
from footfall.queries import visitor_list
from footfall.queries.people import visitor_profile
from footfall.queries.visitors import VisitorView, find_visitor, params_of, resolution, visitor_group, visitor_view
from footfall.scoring.predictions import visitor_prediction
from footfall.store.base import Store, Tx, loads

iso = iso_ms


def url_without_scheme(hostname: str, path: str) -> str:
    return f"{hostname}{path}"


def visitor_body(view: VisitorView, requested_id: str, now: int) -> dict[str, Any]:
    v, last, act = view.visitor, view.latest_pageview, view.activity
    params = params_of(v)
    return {
        # an alias (docs/identity.md) answers for its visitor; a client-generated id is echoed
        "visitorId": requested_id if v["client_key"] is not None else v["id"],
        "identity": {
            "country": last["country"],
            "countryCode": last["country_code"],
            "region": last["region"],
            "city": last["city"],
            "params": {k: params.get(k) for k in PARAM_FIELDS},
            "adClickIds": loads(v["first_click_ids"]),
            "browser": {"name": last["browser"], "version": last["browser_version"]},
            "os": {"name": last["os"], "version": last["os_version"]},
            "device": {"type": last["device_type"], "vendor": last["device_vendor"], "model": last["device_model"]},
            "viewport": {"width": last["viewport_width"], "height": last["viewport_height"]},
        },
        "activity": {
            "visitCount": act["visits"],
            "pageViewCount": act["pageviews"],
            "timeSinceFirstVisit": max(0, now - act["first_seen"]),
            "timeSinceCurrentVisit": max(0, now - act["current_started_at"]),
            "firstVisitAt": iso(act["first_seen"]),
            "lastVisitAt": iso(act["last_seen"]),
            "currentUrl": url_without_scheme(last["hostname"], last["path"]),
            "completedGoals": [
                {"name": g["name"], "origin": "manual", "type": "custom", "timestamp": iso(g["ts"])} for g in view.goals
            ],
            "visitedPages": [
                {"url": url_without_scheme(p["hostname"], p["path"]), "timestamp": iso(p["ts"])} for p in view.pages
            ],
        },
        "profile": None,
        "prediction": None,
    }


def router(store: Store, auth: Authenticator, signer: VisitorSigner, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["DataFast"])

    @api.get("/visitors", summary="List visitors")
    async def list_visitors(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        try:
            query = visitor_list.parse(request.query_params, caller.site.timezone)
        except visitor_list.BadQuery as exc:
            raise ApiError(400, str(exc)) from exc
        return await run_in_threadpool(store.read, lambda tx: visitor_list.list_visitors(tx, caller.site.num, query))

    @api.get("/visitors/{visitorId}", summary="Get visitor")
    async def get_visitor(visitorId: str, request: Request) -> dict[str, Any]:  # noqa: N803 - DataFast's name
        caller = await auth.site_caller(request, "analytics:read")
        if not is_uuid(visitorId):
            raise ApiError(400, "Invalid visitorId: expected a UUID")

        def load(tx: Tx) -> tuple[VisitorView | None, dict[str, Any] | None, list[dict[str, Any]], Any, Any]:
            view = visitor_view(tx, signer, caller.site.id, visitorId)
            if view is None:
                return None, None, [], None, None
            root, browsers = visitor_group(tx, view.visitor)
            predicted = visitor_prediction(tx, caller.site.num, root["num"])
            browser = find_visitor(tx, signer, caller.site.id, visitorId)
            how = resolution(browser)
            # a browser only presumed to be this visitor (device signals) is nobody's: no profile
            profile = None if how["presumed"] else visitor_profile(tx, view.visitor)
            return view, profile, payment_goals(tx, browsers), predicted, how

        view, profile, payments, predicted, how = await run_in_threadpool(store.read, load)
        if view is None:
            raise ApiError(404, "Visitor not found or has no pageviews on this website")
        body = visitor_body(view, visitorId, clock.now_ms())
        goals = body["activity"]["completedGoals"] + payments
        body["activity"]["completedGoals"] = sorted(goals, key=lambda g: g["timestamp"])
        return {"status": "success", "data": body | {"profile": profile, "prediction": predicted, "resolution": how}}

    return api
