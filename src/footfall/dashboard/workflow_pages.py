"""The dashboard's workflow pages: workflows, their syncs and deliveries (docs/workflows.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.api.errors import ApiError
from footfall.api.floqer import Problems, save_sync
from footfall.api.floqer_workflows import create_workflow, delivery_json, replay_delivery, workflow_fields
from footfall.dashboard.web import NotFound, Page, Web
from footfall.sources import FIELDS, PERSONAL
from footfall.store.base import Tx, loads
from footfall.workflows import workflow_json


def add_routes(web: Web, api: APIRouter) -> None:
    # -- workflows ------------------------------------------------------------------------------------------

    async def workflows_page(request: Request, page: Page, status: int = 200, **extra: Any) -> Response:
        account = page.session.user.account_id

        def read(tx: Tx) -> list[dict[str, Any]]:
            rows = tx.all("SELECT * FROM workflows WHERE account_id = ? ORDER BY created_at, id", (account,))
            out = []
            for r in rows:
                counts = {
                    c["status"]: c["n"]
                    for c in tx.all(
                        "SELECT status, COUNT(*) AS n FROM deliveries WHERE workflow_id = ? GROUP BY status", (r["id"],)
                    )
                }
                out.append(workflow_json(r) | {"counts": counts})
            return out

        found = await run_in_threadpool(web.store.read, read)
        values = {"workflows": found, "problems": [], "made": None, "fields": FIELDS[PERSONAL]} | extra
        return web.html("workflows.html", page, status, **values)

    @api.get("/sites/{site_id}/workflows")
    @web.guarded
    async def workflows(request: Request, site_id: str) -> Response:
        return await workflows_page(request, await web.page_for(request, site_id))

    @api.post("/sites/{site_id}/workflows")
    @web.guarded
    async def add_workflow(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        form = await web.form_of(request, page)
        body: dict[str, Any] = {
            "name": form.get("name", ""),
            "kind": form.get("kind", ""),
            "url": form.get("url", ""),
            "inputs": [i.strip() for i in form.get("inputs", "").split(",") if i.strip()],
        }
        if body["kind"] == "slack":
            body["template"] = form.get("template", "")
        problems = Problems()
        kind = body["kind"] if isinstance(body["kind"], str) else None
        fields = workflow_fields(body, problems, False, kind, web.outbound)
        if problems.items:
            return await workflows_page(request, page, 400, problems=[p["message"] for p in problems.items])
        now, account = web.clock.now_ms(), page.session.user.account_id
        made = await run_in_threadpool(web.store.write, lambda tx: create_workflow(tx, account, fields, now, site_id))
        return await workflows_page(request, page, made=made)

    async def workflow_page(
        request: Request, page: Page, workflow_id: str, status: int = 200, **extra: Any
    ) -> Response:
        account = page.session.user.account_id
        site_id = page.here.id

        def read(tx: Tx) -> dict[str, Any] | None:
            row = tx.one("SELECT * FROM workflows WHERE id = ? AND account_id = ?", (workflow_id, account))
            if row is None:
                return None
            deliveries = tx.all(
                "SELECT * FROM deliveries WHERE workflow_id = ? ORDER BY created_at DESC, row_num DESC LIMIT 100",
                (workflow_id,),
            )
            syncs = tx.all(
                "SELECT y.*, o.name AS source_name FROM syncs y JOIN sources o ON o.id = y.source_id "
                "WHERE y.workflow_id = ? ORDER BY y.created_at",
                (workflow_id,),
            )
            sources = tx.all("SELECT id, name, kind FROM sources WHERE site_id = ? ORDER BY num", (site_id,))
            return {
                "workflow": workflow_json(row),
                "deliveries": [delivery_json(d) for d in deliveries],
                "syncs": [dict(y) | {"mapping": loads(y["field_mapping"])} for y in syncs],
                "sources": sources,
            }

        found = await run_in_threadpool(web.store.read, read)
        if found is None:
            raise NotFound
        values = {"problems": [], "synced": None, "fields": FIELDS} | found | extra
        return web.html("workflow.html", page, status, **values)

    @api.get("/sites/{site_id}/workflows/{workflow_id}")
    @web.guarded
    async def workflow(request: Request, site_id: str, workflow_id: str) -> Response:
        return await workflow_page(request, await web.page_for(request, site_id), workflow_id)

    @api.post("/sites/{site_id}/workflows/{workflow_id}/sync")
    @web.guarded
    async def sync(request: Request, site_id: str, workflow_id: str) -> Response:
        page = await web.page_for(request, site_id)
        form = await web.form_of(request, page)
        account, now = page.session.user.account_id, web.clock.now_ms()
        mapping = {k: v for k, v in form.items() if k.startswith("input.") and v}
        push = form.get("push_existing") == "on"

        def go(tx: Tx) -> dict[str, Any] | None:
            source = tx.one(
                "SELECT * FROM sources WHERE id = ? AND account_id = ? AND site_id = ?",
                (form.get("source", ""), account, site_id),
            )
            workflow = tx.one("SELECT * FROM workflows WHERE id = ? AND account_id = ?", (workflow_id, account))
            if source is None or workflow is None:
                return None
            return save_sync(tx, source, workflow, mapping, push, "all", Problems(), now)

        try:
            synced = await run_in_threadpool(web.store.write, go)
        except ApiError as exc:
            problems = [p["message"] for p in (exc.extra or {}).get("errors", [])] or [exc.message]
            return await workflow_page(request, page, workflow_id, 400, problems=problems)
        if synced is None:
            raise NotFound
        return await workflow_page(request, page, workflow_id, synced=synced)

    @api.post("/sites/{site_id}/workflows/{workflow_id}/deliveries/{delivery_id}/replay")
    @web.guarded
    async def replay(request: Request, site_id: str, workflow_id: str, delivery_id: str) -> Response:
        page = await web.page_for(request, site_id)
        await web.form_of(request, page)
        account, now = page.session.user.account_id, web.clock.now_ms()

        def go(tx: Tx) -> bool:
            if tx.one("SELECT 1 AS x FROM workflows WHERE id = ? AND account_id = ?", (workflow_id, account)) is None:
                return False
            return replay_delivery(tx, workflow_id, delivery_id, now) is not None

        if not await run_in_threadpool(web.store.write, go):
            raise NotFound
        return web.redirect(f"/sites/{site_id}/workflows/{workflow_id}")
