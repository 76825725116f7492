"""Floqer's sources API for the two visitor sources, workflows, deliveries and credits
(docs/workflows.md).

Envelopes are Floqer's: `{"status": 200, "data": ...}` (201 on create), flat errors
`{"status", "error", "message"}`; a 400 lists every problem of the body at once, in `message` and
in `errors: [{field, code, message}]`. Bodies are strict: an unknown key is one of the problems.
Keys need `sources:read`/`sources:write` (workflows: `workflows:read`/`workflows:write`); an
account key reaches every domain of its account, a site key only its own site's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from footfall import accounts, ids
from footfall.accounts import ApiKey
from footfall.api.auth import Authenticator, bearer
from footfall.api.bodies import json_object
from footfall.api.errors import ApiError
from footfall.bounds import INT_MAX
from footfall.clock import Clock, iso_ms
from footfall.enrich.networks import HostingNetworks
from footfall.queries.companies import companies
from footfall.queries.ranges import BadQuery, integer
from footfall.scoring.predictions import person_prediction
from footfall.settings import Settings
from footfall.sources import COMPANY, FIELDS, KINDS, PERSONAL, row_json, score_fields
from footfall.store.base import Row, Store, Tx, dumps, loads
from footfall.tracker import pixel_script
from footfall.workflows import RUNS, input_of, push_existing, reachable_workflow

BARE_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
PAGE_SIZE_MAX = 200
PREVIEW_CAP = 100
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Problems:
    """Every problem of a body, reported together."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, name: str, code: str, message: str) -> None:
        self.items.append({"field": name, "code": code, "message": message})

    def check(self) -> None:
        if self.items:
            raise ApiError(
                400,
                "; ".join(p["message"] for p in self.items),
                dialect="floqer",
                extra={"errors": self.items},
            )


async def json_body(request: Request) -> dict[str, Any]:
    if not await request.body():
        return {}
    try:
        return await json_object(request, "floqer")
    except ApiError as exc:
        if "JSON" in exc.message or "object" in exc.message:
            raise ApiError(400, "The body must be a JSON object", dialect="floqer") from None
        raise


def strict(body: dict[str, Any], allowed: tuple[str, ...], problems: Problems) -> None:
    for key in body:
        if key not in allowed:
            problems.add(key, "unknown_field", f"{key}: unknown field (allowed: {', '.join(allowed)})")


def domain_of(body: dict[str, Any], problems: Problems) -> str | None:
    value = body.get("active_domain")
    if value is None:
        problems.add("active_domain", "required", "active_domain: required (a bare domain such as yourcompany.com)")
        return None
    if not isinstance(value, str) or not BARE_DOMAIN.match(value.strip().lower()):
        problems.add(
            "active_domain",
            "invalid_domain",
            "active_domain: must be a bare domain such as yourcompany.com (no scheme or path)",
        )
        return None
    return value.strip().lower().removeprefix("www.")


def scored(tx: Tx, site: Row | None, row: Row) -> dict[str, Any]:
    """A row with its person's current lead score (the stored one is from the row's last event)."""
    body = row_json(row)
    if row["person_num"] is not None and site is not None:
        body |= score_fields(person_prediction(tx, site["num"], row["person_num"]))
    return body


def ok(request: Request, data: Any, status: int = 200) -> JSONResponse:
    """Floqer's envelope, with the rate-limit headers the limiter left on the request."""
    return JSONResponse({"status": status, "data": data}, status, headers=getattr(request.state, "rate_headers", None))


def paging(request: Request) -> tuple[int, int]:
    problems = Problems()
    values = []
    for name, default, high in (("page_no", 1, INT_MAX), ("page_size", 20, PAGE_SIZE_MAX)):
        try:
            values.append(integer(request.query_params.get(name), name, default, 1, high))
        except BadQuery as exc:
            problems.add(name, "invalid", str(exc))
    problems.check()
    return values[0], values[1]


def source_json(row: Row, site: Row, base_url: str) -> dict[str, Any]:
    return {
        "source_instance_id": row["id"],
        "source_id": row["kind"],
        "name": row["name"],
        "active_domain": site["domain"],
        "status": row["status"],
        "created_at": iso_ms(row["created_at"]),
        "pixel_id": site["id"],
        "pixel_script": pixel_script(base_url, site["id"]),
    }


def balance(tx: Tx, account_id: str) -> int:
    row = tx.one("SELECT COALESCE(SUM(delta), 0) AS n FROM credit_ledger WHERE account_id = ?", (account_id,))
    return int(row["n"]) if row else 0


def grant(tx: Tx, account_id: str, amount: int, now: int, reason: str = "grant") -> int:
    tx.execute(
        "INSERT INTO credit_ledger (account_id, delta, reason, created_at) VALUES (?, ?, ?, ?)",
        (account_id, amount, reason, now),
    )
    return balance(tx, account_id)


async def floqer_key(auth: Authenticator, request: Request, scope: str) -> ApiKey:
    key = await auth.key(bearer(request), "floqer")
    if not key.allows(scope):
        raise ApiError(403, f"This API key lacks the '{scope}' scope", dialect="floqer")
    return key


def router(store: Store, auth: Authenticator, clock: Clock, settings: Settings, hosting: HostingNetworks) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["Floqer sources and workflows"])
    costs = {PERSONAL: settings.personal_source_credits, COMPANY: settings.company_source_credits}

    def base_url(request: Request) -> str:
        return settings.public_url or str(request.base_url)

    async def caller(request: Request, scope: str) -> ApiKey:
        return await floqer_key(auth, request, scope)

    def kind_of(source_id: str) -> str:
        if source_id not in KINDS:
            raise ApiError(404, f"Unknown source '{source_id}' (known: {', '.join(KINDS)})", dialect="floqer")
        return source_id

    def site_for(tx: Tx, key: ApiKey, domain: str, create: bool, now: int) -> Row | None:
        site = tx.one("SELECT * FROM sites WHERE account_id = ? AND domain = ?", (key.account_id, domain))
        if key.site_id is not None and (site is None or site["id"] != key.site_id):
            raise ApiError(403, "This API key belongs to another website", dialect="floqer")
        if site is None and create:
            accounts.create_site(tx, key.account_id, domain, now)
            site = tx.one("SELECT * FROM sites WHERE account_id = ? AND domain = ?", (key.account_id, domain))
        return site

    def own_source(tx: Tx, key: ApiKey, source_id: str) -> tuple[Row, Row]:
        row = tx.one("SELECT * FROM sources WHERE id = ?", (source_id,))
        if row is None or row["account_id"] != key.account_id or (key.site_id and row["site_id"] != key.site_id):
            raise ApiError(404, f"Source instance {source_id} not found", dialect="floqer")
        site = tx.one("SELECT * FROM sites WHERE id = ?", (row["site_id"],))
        assert site is not None
        return row, site

    # -- sources ---------------------------------------------------------------------------------

    @api.post("/sources/{source_id}/preview", summary="Validate a domain (and preview company rows)")
    async def preview(source_id: str, request: Request) -> JSONResponse:
        kind = kind_of(source_id)
        key = await caller(request, "sources:read")
        body, problems = await json_body(request), Problems()
        strict(body, ("active_domain",), problems)
        domain = domain_of(body, problems)
        problems.check()
        assert domain is not None

        def go(tx: Tx) -> dict[str, Any]:
            site = site_for(tx, key, domain, False, clock.now_ms())
            if kind == PERSONAL or site is None:  # people are only identified once the pixel runs
                return {"data": [], "metadata": {"total_results": 0}}
            found = companies(tx, site["num"], hosting)
            rows = [
                {
                    "company": c["name"],
                    "companyDomain": c["domain"],
                    "companyLinkedinUrl": c["linkedinUrl"],
                    "industry": c["industry"],
                    "country": c["country"],
                    "visitCount": c["visits"],
                    "lastVisitAt": c["lastVisitAt"],
                    "identifiedPeopleCount": c["people"],
                }
                for c in found
            ]
            meta: dict[str, Any] = {"total_results": len(rows)}
            if len(rows) > PREVIEW_CAP:
                meta["capped"] = True
            return {"data": rows[:PREVIEW_CAP], "metadata": meta}

        return ok(request, await run_in_threadpool(store.read, go))

    @api.post("/sources/{source_id}", summary="Create a visitor source and its pixel")
    async def create_source(source_id: str, request: Request) -> JSONResponse:
        kind = kind_of(source_id)
        key = await caller(request, "sources:write")
        body, problems = await json_body(request), Problems()
        strict(body, ("name", "active_domain"), problems)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add("name", "required", "name: required (a display name for the source)")
        elif len(name.strip()) > 200:
            problems.add("name", "too_long", "name: at most 200 characters")
        domain = domain_of(body, problems)
        problems.check()
        assert isinstance(name, str) and domain is not None
        now = clock.now_ms()
        cost = costs[kind]

        def go(tx: Tx) -> dict[str, Any]:
            if cost and not settings.credits_unlimited:
                have = balance(tx, key.account_id)
                if have < cost:
                    raise ApiError(
                        402,
                        f"Not enough credits: creating a {kind} source costs {cost}, the balance is {have}",
                        dialect="floqer",
                    )
            site = site_for(tx, key, domain, True, now)
            assert site is not None
            source = ids.person_id()
            tx.execute(
                "INSERT INTO sources (id, account_id, site_id, kind, name, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
                (source, key.account_id, site["id"], kind, name.strip(), now, now),
            )
            if cost:
                tx.execute(
                    "INSERT INTO credit_ledger (account_id, delta, reason, created_at) VALUES (?, ?, ?, ?)",
                    (key.account_id, -cost, f"source {source}", now),
                )
            row = tx.one("SELECT * FROM sources WHERE id = ?", (source,))
            assert row is not None
            return source_json(row, site, base_url(request))

        created = await run_in_threadpool(store.write, go)
        return ok(
            request,
            {k: created[k] for k in ("source_instance_id", "name", "created_at", "pixel_id", "pixel_script")},
            201,
        )

    @api.get("/sources", summary="The account's visitor sources")
    async def list_sources(request: Request) -> JSONResponse:
        key = await caller(request, "sources:read")

        def go(tx: Tx) -> list[dict[str, Any]]:
            rows = tx.all(
                "SELECT s.*, t.domain, t.id AS pixel FROM sources s JOIN sites t ON t.id = s.site_id "
                "WHERE s.account_id = ? ORDER BY s.num",
                (key.account_id,),
            )
            return [
                source_json(r, {"id": r["pixel"], "domain": r["domain"]}, base_url(request))
                for r in rows
                if key.site_id is None or r["site_id"] == key.site_id
            ]

        return ok(request, await run_in_threadpool(store.read, go))

    @api.get("/sources/{source_instance_id}/data", summary="A source's rows")
    async def data(source_instance_id: str, request: Request) -> JSONResponse:
        key = await caller(request, "sources:read")
        page_no, page_size = paging(request)

        def go(tx: Tx) -> dict[str, Any]:
            own_source(tx, key, source_instance_id)
            total = tx.one("SELECT COUNT(*) AS n FROM source_rows WHERE source_id = ?", (source_instance_id,))
            rows = tx.all(
                "SELECT * FROM source_rows WHERE source_id = ? ORDER BY num LIMIT ? OFFSET ?",
                (source_instance_id, page_size, (page_no - 1) * page_size),
            )
            site = tx.one("SELECT s.num FROM sources o JOIN sites s ON s.id = o.site_id WHERE o.id = ?",
                          (source_instance_id,))  # fmt: skip
            return {"total_count": int(total["n"]) if total else 0, "rows": [scored(tx, site, r) for r in rows]}

        return ok(request, await run_in_threadpool(store.read, go))

    @api.post("/sources/{source_instance_id}/sync", summary="Sync a source into a workflow")
    async def sync(source_instance_id: str, request: Request) -> JSONResponse:
        key = await caller(request, "sources:write")
        body, problems = await json_body(request), Problems()
        strict(body, ("workflow_id", "field_mapping", "push_existing", "run"), problems)
        workflow_id = body.get("workflow_id")
        if not isinstance(workflow_id, str) or not UUID.match(workflow_id):
            problems.add("workflow_id", "required", "workflow_id: required (the workflow's UUID)")
        raw_mapping = body.get("field_mapping")
        if not isinstance(raw_mapping, dict):
            problems.add("field_mapping", "required", "field_mapping: required (an object of input -> source field)")
            raw_mapping = {}
        push = body.get("push_existing", True)
        if not isinstance(push, bool):
            problems.add("push_existing", "invalid", "push_existing: true or false")
        run = body.get("run", "all")
        if run not in RUNS:
            problems.add("run", "invalid", f"run: one of {', '.join(RUNS)}")
        now = clock.now_ms()

        def go(tx: Tx) -> dict[str, Any]:
            source, _ = own_source(tx, key, source_instance_id)
            workflow = None
            if isinstance(workflow_id, str) and UUID.match(workflow_id):
                workflow = reachable_workflow(tx, key.account_id, key.site_id, workflow_id)
                if workflow is None:
                    raise ApiError(404, f"Workflow {workflow_id} not found", dialect="floqer")
            # a job may run twice (group commit retries it alone): the problems are copied each time
            return save_sync(tx, source, workflow, raw_mapping, push, run, Problems(list(problems.items)), now)

        return ok(request, await run_in_threadpool(store.write, go))

    @api.patch("/sources/{source_instance_id}/status", summary="Pause or resume a source")
    async def status(source_instance_id: str, request: Request) -> JSONResponse:
        key = await caller(request, "sources:write")
        body, problems = await json_body(request), Problems()
        strict(body, ("status",), problems)
        wanted = body.get("status")
        if wanted not in ("active", "paused"):
            problems.add("status", "invalid", "status: active or paused")
        now = clock.now_ms()

        def go(tx: Tx) -> dict[str, Any]:
            own_source(tx, key, source_instance_id)  # someone else's source: 404 before any body problem
            problems.check()
            tx.execute("UPDATE sources SET status = ?, updated_at = ? WHERE id = ?", (wanted, now, source_instance_id))
            return {"source_instance_id": source_instance_id, "status": wanted, "updated_at": iso_ms(now)}

        return ok(request, await run_in_threadpool(store.write, go))

    # -- credits ---------------------------------------------------------------------------------

    @api.get("/credits", summary="The account's credits")
    async def credits(request: Request) -> JSONResponse:
        key = await caller(request, "sources:read")
        have = await run_in_threadpool(store.read, lambda tx: balance(tx, key.account_id))
        return ok(request, {"unlimited": settings.credits_unlimited, "balance": have, "costs": costs})

    return api


def save_sync(
    tx: Tx,
    source: Row,
    workflow: Row | None,
    raw_mapping: dict[str, Any],
    push: bool,
    run: str,
    found: Problems,
    now: int,
) -> dict[str, Any]:
    """Syncs `source` into `workflow` with a mapping of `input.<name>` to the source's fields (every
    problem reported at once, with those already `found`), and pushes its existing rows if asked."""
    source_instance_id = source["id"]
    inputs = set(loads(workflow["inputs"])) if workflow else set()
    known = FIELDS[source["kind"]]
    mapping: dict[str, str] = {}
    for k, v in raw_mapping.items():
        name = input_of(k)
        if name is None:
            found.add(f"field_mapping.{k}", "invalid_input", f"field_mapping: {k!r} is not input.<snake_case>")
        elif workflow is not None and name not in inputs:
            found.add(
                f"field_mapping.{k}",
                "unknown_input",
                f"field_mapping: unknown input {name!r} (the workflow's inputs: {', '.join(sorted(inputs))})",
            )
        if not isinstance(v, str) or v not in known:
            found.add(
                f"field_mapping.{k}",
                "unknown_field",
                f"field_mapping: {k}: {v!r} is not a field of {source['kind']}",
            )
        elif name is not None:
            mapping[name] = v
    found.check()
    assert workflow is not None
    existing = tx.one(
        "SELECT id FROM syncs WHERE source_id = ? AND workflow_id = ?", (source_instance_id, workflow["id"])
    )
    sync_id = existing["id"] if existing else ids.person_id()
    if existing:
        tx.execute(
            "UPDATE syncs SET field_mapping = ?, push_existing = ?, run = ?, updated_at = ? WHERE id = ?",
            (dumps(mapping), int(push), run, now, sync_id),
        )
    else:
        tx.execute(
            "INSERT INTO syncs (id, source_id, workflow_id, field_mapping, push_existing, run, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sync_id, source_instance_id, workflow["id"], dumps(mapping), int(push), run, now, now),
        )
    row = tx.one("SELECT * FROM syncs WHERE id = ?", (sync_id,))
    assert row is not None
    counts = push_existing(tx, row, now) if push else {"pushed": 0, "queued": 0}
    return {
        "sync_id": sync_id,
        "source_instance_id": source_instance_id,
        "workflow_id": workflow["id"],
        "field_mapping": {f"input.{k}": v for k, v in mapping.items()},
        "push_existing": push,
        "run": run,
        "rows_pushed": counts["pushed"],
        "rows_queued": counts["queued"],
    }
