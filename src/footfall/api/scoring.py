"""`GET /api/v1/scoring`: where a site's lead scoring stands (docs/scoring.md). Needs `analytics:read`.

A site with too few conversions is told so, with how many there are and how many are needed,
instead of a column of scores nobody should trust; a scored site gets its model's measured quality.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from footfall.api.auth import Authenticator
from footfall.scoring.predictions import site_scoring
from footfall.store.base import Store


def router(store: Store, auth: Authenticator) -> APIRouter:
    api = APIRouter()

    @api.get("/api/v1/scoring", summary="The site's lead scoring: status and measured quality")
    async def scoring(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        site = caller.site
        goals = list(site.settings.get("conversion_goals", []))
        found = await run_in_threadpool(store.read, lambda tx: site_scoring(tx, site.num, goals))
        return {"status": "success", "data": found}

    return api
