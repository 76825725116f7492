"""Floqer's workflows API: workflows (webhook, Slack), their deliveries and replays
(docs/workflows.md). Envelopes, errors and strict bodies as in api/floqer.py.

Keys: an account key reaches every workflow of its account. A site key reaches the workflows it
made and those fed only by its site's sources (an account's workflow fed by another site's
sources is not found), with their deliveries. Secrets are write-only: header values and a Slack
URL's path come back masked, and a masked value sent back keeps what it stands for.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from footfall import ids
from footfall.accounts import ApiKey
from footfall.api.auth import Authenticator
from footfall.api.errors import ApiError
from footfall.api.floqer import Problems, floqer_key, json_body, ok, paging, strict
from footfall.clock import Clock, iso_ms
from footfall.outbound import Outbound, Refused
from footfall.store.base import Row, Store, Tx, dumps, loads
from footfall.workflows import (
    FORBIDDEN_HEADERS,
    MASK,
    REFERENCE,
    new_secret,
    reachable_workflow,
    reachable_workflows,
    unmask_headers,
    workflow_json,
)
from footfall.workflows import KINDS as WORKFLOW_KINDS


def own_workflow(tx: Tx, key: ApiKey, workflow_id: str) -> Row:
    row = reachable_workflow(tx, key.account_id, key.site_id, workflow_id)
    if row is None:
        raise ApiError(404, f"Workflow {workflow_id} not found", dialect="floqer")
    return row


def router(store: Store, auth: Authenticator, clock: Clock, outbound: Outbound) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["Floqer sources and workflows"])

    @api.post("/workflows", summary="Create a workflow (webhook or Slack)")
    async def make_workflow(request: Request) -> JSONResponse:
        key = await floqer_key(auth, request, "workflows:write")
        body, problems = await json_body(request), Problems()
        fields = workflow_fields(
            body, problems, False, body.get("kind") if isinstance(body.get("kind"), str) else None, outbound
        )
        problems.check()
        now = clock.now_ms()
        made = await run_in_threadpool(
            store.write, lambda tx: create_workflow(tx, key.account_id, fields, now, key.site_id)
        )
        return ok(request, made, 201)

    @api.get("/workflows", summary="The account's workflows")
    async def list_workflows(request: Request) -> JSONResponse:
        key = await floqer_key(auth, request, "workflows:read")
        rows = await run_in_threadpool(store.read, lambda tx: reachable_workflows(tx, key.account_id, key.site_id))
        return ok(request, [workflow_json(r) for r in rows])

    @api.get("/workflows/{workflow_id}", summary="A workflow and its syncs")
    async def get_workflow(workflow_id: str, request: Request) -> JSONResponse:
        key = await floqer_key(auth, request, "workflows:read")

        def go(tx: Tx) -> dict[str, Any]:
            row = own_workflow(tx, key, workflow_id)
            syncs = tx.all("SELECT * FROM syncs WHERE workflow_id = ? ORDER BY created_at, id", (workflow_id,))
            return workflow_json(row) | {
                "syncs": [
                    {
                        "sync_id": s["id"],
                        "source_instance_id": s["source_id"],
                        "field_mapping": {f"input.{k}": v for k, v in loads(s["field_mapping"]).items()},
                        "push_existing": bool(s["push_existing"]),
                        "run": s["run"],
                    }
                    for s in syncs
                ]
            }

        return ok(request, await run_in_threadpool(store.read, go))

    @api.patch("/workflows/{workflow_id}", summary="Change a workflow")
    async def patch_workflow(workflow_id: str, request: Request) -> JSONResponse:
        key = await floqer_key(auth, request, "workflows:write")
        body = await json_body(request)
        now = clock.now_ms()

        def go(tx: Tx) -> dict[str, Any]:
            problems = Problems()  # here: a job may run twice (group commit retries it alone)
            row = own_workflow(tx, key, workflow_id)
            fields = workflow_fields(body, problems, True, row["kind"], outbound)
            if "inputs" in fields:
                for s in tx.all("SELECT field_mapping FROM syncs WHERE workflow_id = ?", (workflow_id,)):
                    missing = sorted(set(loads(s["field_mapping"])) - set(fields["inputs"]))
                    if missing:
                        problems.add("inputs", "in_use", f"inputs: mapped by a sync: {', '.join(missing)}")
            problems.check()
            config = loads(row["config"])
            if "headers" in fields:  # a masked value sent back keeps the secret it stands for
                fields["headers"] = unmask_headers(fields["headers"], config.get("headers", {}))
            if MASK in fields.get("url", ""):  # the masked URL sent back: the stored one stays
                del fields["url"]
            config |= {k: fields[k] for k in ("url", "secret", "headers", "template", "hold_unverified") if k in fields}
            tx.execute(
                "UPDATE workflows SET name = ?, inputs = ?, config = ?, updated_at = ? WHERE id = ?",
                (
                    fields.get("name", row["name"]),
                    dumps(fields.get("inputs", loads(row["inputs"]))),
                    dumps(config),
                    now,
                    workflow_id,
                ),
            )
            updated = tx.one("SELECT * FROM workflows WHERE id = ?", (workflow_id,))
            assert updated is not None
            return workflow_json(updated)

        return ok(request, await run_in_threadpool(store.write, go))

    @api.delete("/workflows/{workflow_id}", summary="Delete a workflow, its syncs and pending deliveries")
    async def delete_workflow(workflow_id: str, request: Request) -> JSONResponse:
        key = await floqer_key(auth, request, "workflows:write")

        def go(tx: Tx) -> dict[str, Any]:
            own_workflow(tx, key, workflow_id)
            tx.execute("DELETE FROM deliveries WHERE workflow_id = ?", (workflow_id,))
            tx.execute("DELETE FROM syncs WHERE workflow_id = ?", (workflow_id,))
            tx.execute("DELETE FROM workflows WHERE id = ?", (workflow_id,))
            return {"id": workflow_id, "deleted": True}

        return ok(request, await run_in_threadpool(store.write, go))

    @api.get("/workflows/{workflow_id}/deliveries", summary="A workflow's deliveries")
    async def deliveries(workflow_id: str, request: Request) -> JSONResponse:
        key = await floqer_key(auth, request, "workflows:read")
        page_no, page_size = paging(request)
        wanted = request.query_params.get("status")
        if wanted is not None and wanted not in ("pending", "held", "delivered", "failed", "skipped"):
            raise ApiError(400, "status: pending, held, delivered, failed or skipped", dialect="floqer")

        def go(tx: Tx) -> dict[str, Any]:
            own_workflow(tx, key, workflow_id)
            where, params = "workflow_id = ?", [workflow_id]
            if wanted:
                where += " AND status = ?"
                params.append(wanted)
            total = tx.one(f"SELECT COUNT(*) AS n FROM deliveries WHERE {where}", params)
            rows = tx.all(
                f"SELECT * FROM deliveries WHERE {where} ORDER BY created_at, row_num LIMIT ? OFFSET ?",
                [*params, page_size, (page_no - 1) * page_size],
            )
            return {"total_count": int(total["n"]) if total else 0, "rows": [delivery_json(r) for r in rows]}

        return ok(request, await run_in_threadpool(store.read, go))

    @api.post("/workflows/{workflow_id}/deliveries/{delivery_id}/replay", summary="Send a delivery again")
    async def replay(workflow_id: str, delivery_id: str, request: Request) -> JSONResponse:
        key = await floqer_key(auth, request, "workflows:write")
        now = clock.now_ms()

        def go(tx: Tx) -> dict[str, Any]:
            own_workflow(tx, key, workflow_id)
            updated = replay_delivery(tx, workflow_id, delivery_id, now)
            if updated is None:
                raise ApiError(404, f"Delivery {delivery_id} not found", dialect="floqer")
            return delivery_json(updated)

        return ok(request, await run_in_threadpool(store.write, go))

    return api


def workflow_fields(
    body: dict[str, Any], problems: Problems, partial: bool, kind: str | None, outbound: Outbound
) -> dict[str, Any]:
    allowed = ("name", "kind", "inputs", "url", "secret", "headers", "template", "hold_unverified")
    strict(body, allowed if not partial else tuple(a for a in allowed if a != "kind"), problems)
    out: dict[str, Any] = {}
    if not partial or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add("name", "required", "name: required")
        else:
            out["name"] = name.strip()
    if not partial:
        kind = body.get("kind")
        if kind not in WORKFLOW_KINDS:
            problems.add("kind", "invalid", f"kind: one of {', '.join(WORKFLOW_KINDS)}")
        out["kind"] = kind
    if not partial or "inputs" in body:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            problems.add("inputs", "required", "inputs: a list of input references (snake_case)")
        else:
            bad = [i for i in inputs if not isinstance(i, str) or not REFERENCE.match(i)]
            if bad:
                problems.add("inputs", "invalid", f"inputs: not lowercase snake_case: {', '.join(map(str, bad))}")
            elif len(set(inputs)) != len(inputs):
                problems.add("inputs", "duplicate", "inputs: each reference once")
            else:
                out["inputs"] = inputs
    if not partial or "url" in body:
        url = body.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            problems.add("url", "invalid", "url: an http(s) URL")
        elif partial and MASK in url:
            out["url"] = url  # the masked URL sent back: the stored one is kept
        else:
            try:
                out["url"] = outbound.check_url(url)
            except Refused as exc:
                problems.add("url", "not_public", f"url: {exc}")
    if "secret" in body:
        secret = body["secret"]
        if not isinstance(secret, str) or len(secret) < 16:
            problems.add("secret", "invalid", "secret: a string of at least 16 characters")
        else:
            out["secret"] = secret
    if "headers" in body:
        headers = body["headers"]
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            problems.add("headers", "invalid", "headers: an object of header name -> string value")
        elif forbidden := sorted(k for k in headers if k.lower() in FORBIDDEN_HEADERS):
            problems.add("headers", "reserved", f"headers: set by footfall: {', '.join(forbidden)}")
        else:
            out["headers"] = headers
    if kind == "slack":
        if "headers" in body:
            problems.add("headers", "invalid", "headers: webhook workflows only")
        if not partial or "template" in body:
            template = body.get("template")
            if not isinstance(template, str) or not template.strip():
                problems.add("template", "required", "template: the Slack message, with {{input.<name>}} places")
            else:
                out["template"] = template
    elif "template" in body:
        problems.add("template", "invalid", "template: Slack workflows only")
    if "hold_unverified" in body:
        if not isinstance(body["hold_unverified"], bool):
            problems.add("hold_unverified", "invalid", "hold_unverified: true or false")
        else:
            out["hold_unverified"] = body["hold_unverified"]
    return out


def create_workflow(
    tx: Tx, account_id: str, fields: dict[str, Any], now: int, site_id: str | None = None
) -> dict[str, Any]:
    """A new workflow from checked `fields` (of `site_id` when a site key made it); its JSON with
    the signing secret (shown once)."""
    secret = fields.get("secret") or new_secret()
    config = {"url": fields["url"], "secret": secret, "hold_unverified": fields.get("hold_unverified", False)}
    config |= (
        {"headers": fields.get("headers", {})} if fields["kind"] == "webhook" else {"template": fields["template"]}
    )
    workflow_id = ids.person_id()
    tx.execute(
        "INSERT INTO workflows (id, account_id, site_id, name, kind, inputs, config, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            workflow_id,
            account_id,
            site_id,
            fields["name"],
            fields["kind"],
            dumps(fields["inputs"]),
            dumps(config),
            now,
            now,
        ),  # fmt: skip
    )
    row = tx.one("SELECT * FROM workflows WHERE id = ?", (workflow_id,))
    assert row is not None
    return workflow_json(row) | {"secret": secret}


def replay_delivery(tx: Tx, workflow_id: str, delivery_id: str, now: int) -> Row | None:
    """Sends a delivery again, with a new retry window from the next attempt; None if unknown."""
    row = tx.one("SELECT * FROM deliveries WHERE id = ? AND workflow_id = ?", (delivery_id, workflow_id))
    if row is None:
        return None
    tx.execute(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, expires_at = 0, leased_until = 0 WHERE id = ?",
        (now, delivery_id),
    )
    return tx.one("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))


def delivery_json(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "source_instance_id": row["source_id"],
        "row_id": str(row["row_num"]),
        "idempotency_key": row["idempotency_key"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_status": row["last_status"],
        "last_error": row["last_error"],  # footfall's words (a status, a refusal), never the receiver's body
        "created_at": iso_ms(row["created_at"]),
        "next_attempt_at": iso_ms(row["next_attempt_at"]) if row["status"] == "pending" else None,
        "expires_at": iso_ms(row["expires_at"] or None),  # none until the first attempt
        "delivered_at": iso_ms(row["delivered_at"]),
    }
