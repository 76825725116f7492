"""The dashboard's pages (docs/dashboard.md): server-rendered HTML at `/`, one page per question.

Every page reads through the same query functions as the APIs (analytics, realtime, people,
companies, visitors), so a number on screen is the number the API gives. Forms post
`application/x-www-form-urlencoded` bodies carrying the session's CSRF token; a post without it,
or from another origin, is refused with 403 and changes nothing.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.responses import HTMLResponse, RedirectResponse, Response

from footfall import __version__, accounts, imports
from footfall.accounts import Site
from footfall.api.errors import ApiError
from footfall.api.floqer import Problems, create_workflow, delivery_json, replay_delivery, save_sync, workflow_fields
from footfall.api.people import ORDERS
from footfall.clock import Clock, iso_ms
from footfall.dashboard import users
from footfall.dashboard.charts import line_chart
from footfall.enrich.networks import HostingNetworks
from footfall.ids import LinkSigner
from footfall.queries import analytics as a
from footfall.queries import realtime as live
from footfall.queries import visitor_list
from footfall.queries.companies import companies
from footfall.queries.people import person_body, person_detail
from footfall.queries.segments import site_segments
from footfall.settings import Settings
from footfall.sources import FIELDS, PERSONAL
from footfall.store.base import Row, Store, Tx, dumps, loads
from footfall.tracker import snippet
from footfall.workflows import workflow_json

COOKIE = "ff_session"
LOGIN_CSRF = "ff_login_csrf"
PERIODS = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "12mo": "Last 12 months",
    "all": "All time",
}
REFUSED = "This form was not sent from this dashboard (its security token is missing or wrong). Reload the page."
PANELS = (  # overview breakdowns: (endpoint, heading, filter dimension)
    ("pages", "Top pages", "page"),
    ("referrers", "Referrers", "referrer"),
    ("countries", "Countries", "country"),
    ("devices", "Devices", "device"),
    ("campaigns", "Campaigns", "utm_source"),
)
PEOPLE_PAGE = 50
SCAN_LIMIT = 2000  # people read to apply segment and score filters
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


@dataclass
class Page:
    """What every page gets: who is looking, at which site, with which form token."""

    session: users.Session
    sites: list[Site]
    site: Site | None = None

    @property
    def here(self) -> Site:
        """The site of a /sites/{id}/ page (page_for found it, or answered 404)."""
        assert self.site is not None
        return self.site


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("footfall", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["when"] = lambda ms: "" if ms is None else str(iso_ms(ms))[:16].replace("T", " ")
    env.filters["number"] = lambda v: "" if v is None else f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
    env.filters["duration"] = lambda ms: f"{int(ms or 0) // 60000}m {int(ms or 0) // 1000 % 60:02d}s"
    env.globals["version"] = __version__
    return env


def _period_range(period: str, zone: ZoneInfo, now_ms: int) -> tuple[str, str] | None:
    today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone).date()
    days = {"today": 0, "7d": 6, "30d": 29, "90d": 89, "12mo": 364}
    if period not in days:
        return None
    return (today - timedelta(days=days[period])).isoformat(), today.isoformat()


def _with(params: dict[str, str], **changes: str | None) -> str:
    """The query string of `params` with `changes` (None removes a key)."""
    merged = {**params, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def router(store: Store, clock: Clock, settings: Settings, hosting: HostingNetworks, links: LinkSigner) -> APIRouter:
    env = templates()
    web = APIRouter(include_in_schema=False)
    secure = not settings.dashboard_insecure_cookies

    def html(name: str, page: Page | None, status: int = 200, **values: Any) -> HTMLResponse:
        body = env.get_template(name).render(page=page, **values)
        return HTMLResponse(body, status, headers=SECURITY_HEADERS)

    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, 303, headers=SECURITY_HEADERS)

    async def session_of(request: Request) -> users.Session | None:
        token = request.cookies.get(COOKIE)
        now = clock.now_ms()
        return await run_in_threadpool(store.read, lambda tx: users.session_of(tx, token, now))

    async def page_for(request: Request, site_id: str | None = None) -> Page:
        session = await session_of(request)
        if session is None:
            raise PermissionError
        sites = await run_in_threadpool(store.read, lambda tx: accounts.list_sites(tx, session.user.account_id))
        page = Page(session, sites)
        if site_id is not None:
            page.site = next((s for s in sites if s.id == site_id), None)
            if page.site is None:
                raise NotFound
        return page

    async def form_of(request: Request, page: Page | None, login_token: str | None = None) -> MultiDict:
        """The posted form, once its origin and CSRF token are checked."""
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            raise Forbidden
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise Forbidden
        form = MultiDict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        expected = page.session.csrf if page else login_token
        if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
            raise Forbidden
        return form

    def guarded(
        fn: Callable[..., Awaitable[Response]],
    ) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(fn)  # FastAPI reads the page's own parameters
        async def run(request: Request, **kw: Any) -> Response:
            try:
                return await fn(request, **kw)
            except PermissionError:
                return redirect("/login" + _with({"next": request.url.path}))
            except Forbidden:
                return html("error.html", None, 403, title="Refused", message=REFUSED)
            except NotFound:
                return html(
                    "error.html", None, 404, title="Not found", message="There is nothing here in your account."
                )

        return run

    # -- login --------------------------------------------------------------------------------------

    @web.get("/login")
    async def login_form(request: Request) -> Response:
        token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
        response = html("login.html", None, next=request.query_params.get("next", "/"), csrf=token, error=None)
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", secure=secure, path="/login")
        return response

    @web.post("/login")
    async def login(request: Request) -> Response:
        try:
            form = await form_of(request, None, request.cookies.get(LOGIN_CSRF))
        except Forbidden:
            return html("error.html", None, 403, title="Refused", message="The login form expired: reload it.")
        email, password = form.get("email", ""), form.get("password", "")
        user = await run_in_threadpool(store.read, lambda tx: users.authenticate(tx, email, password))
        target = form.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        if user is None:
            csrf = request.cookies.get(LOGIN_CSRF)
            return html("login.html", None, 401, next=target, csrf=csrf, error="Wrong email or password.")
        now = clock.now_ms()
        token = await run_in_threadpool(store.write, lambda tx: users.start_session(tx, user, now))
        response = redirect(target)
        response.set_cookie(
            COOKIE, token, max_age=users.SESSION_DAYS * 86400, httponly=True, samesite="lax", secure=secure, path="/"
        )
        return response

    @web.post("/logout")
    @guarded
    async def logout(request: Request) -> Response:
        page = await page_for(request)
        await form_of(request, page)
        token = request.cookies.get(COOKIE, "")
        await run_in_threadpool(store.write, lambda tx: users.end_session(tx, token))
        response = redirect("/login")
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- sites ----------------------------------------------------------------------------------------

    @web.get("/")
    @guarded
    async def home(request: Request) -> Response:
        page = await page_for(request)
        return redirect(f"/sites/{page.sites[0].id}/") if page.sites else redirect("/sites")

    @web.get("/sites")
    @guarded
    async def sites(request: Request) -> Response:
        return html("sites.html", await page_for(request), error=None)

    @web.post("/sites")
    @guarded
    async def add_site(request: Request) -> Response:
        page = await page_for(request)
        form = await form_of(request, page)
        now = clock.now_ms()
        try:
            site = await run_in_threadpool(
                store.write,
                lambda tx: accounts.create_site(
                    tx,
                    page.session.user.account_id,
                    form.get("domain", ""),
                    now,
                    timezone=form.get("timezone") or "UTC",
                ),
            )
        except accounts.InvalidInput as exc:
            return html("sites.html", page, 400, error=str(exc))
        return redirect(f"/sites/{site.id}/install")

    # -- overview ---------------------------------------------------------------------------------------

    @web.get("/sites/{site_id}/")
    @guarded
    async def overview(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        site = page.here
        given = dict(request.query_params)
        period = given.get("period") or ("custom" if given.get("startAt") else "30d")
        zone = ZoneInfo(site.timezone)
        span = _period_range(period, zone, clock.now_ms())
        params = {k: v for k, v in given.items() if k.startswith("filter_")}
        if span:
            params |= {"startAt": span[0], "endAt": span[1]}
        elif period == "custom":
            params |= {"startAt": given.get("startAt", ""), "endAt": given.get("endAt", "")}
        try:
            query = a.parse(params, site.timezone)
        except a.BadQuery as exc:
            return html("overview.html", page, 400, error=str(exc), period=period, given=given, periods=PERIODS)

        def read(tx: Tx) -> dict[str, Any]:
            totals = a.overview(tx, site.num, query)
            interval = "hour" if query.same_day else "month" if period in ("12mo", "all") else "day"
            series_query = a.parse(params, site.timezone)
            a.default_window(series_query, interval, clock.now_ms())
            rows, _ = a.timeseries(tx, site.num, series_query, interval)
            data = a.load(tx, site.num, query) if query.filters else None
            panels = []
            for endpoint, heading, dimension in PANELS:
                found = (
                    a.breakdown(data, endpoint)
                    if data is not None
                    else a.rolled_breakdown(tx, site.num, query, endpoint)
                )
                panels.append((heading, dimension, [_panel_row(endpoint, r) for r in found[:10]]))
            goals = a.goals(tx, site.num, query)[:10]
            return {"totals": totals, "rows": rows, "panels": panels, "goals": goals}

        found = await run_in_threadpool(store.read, read)
        chart = line_chart(
            "Visitors and visits",
            [r["name"] for r in found["rows"]],
            {"visitors": [r["visitors"] for r in found["rows"]], "visits": [r["sessions"] for r in found["rows"]]},
        )
        filters = [
            (k.removeprefix("filter_"), v, _with(given, **{k: None}))
            for k, v in params.items()
            if k.startswith("filter_")
        ]
        return html(
            "overview.html",
            page,
            error=None,
            period=period,
            given=given,
            periods=PERIODS,
            chart=chart,
            filters=filters,
            link=lambda dim, value: _with(given, **{f"filter_{dim}": f"is:{value}"}),
            **found,
        )

    # -- realtime -----------------------------------------------------------------------------------------

    @web.get("/sites/{site_id}/realtime")
    @guarded
    async def realtime(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        num, now = page.here.num, clock.now_ms()
        data = await run_in_threadpool(store.read, lambda tx: live.realtime_map(tx, num, now, 10 * 60_000))
        return html("realtime.html", page, data=data)

    # -- people ---------------------------------------------------------------------------------------------

    @web.get("/sites/{site_id}/people")
    @guarded
    async def people(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
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
            return {"people": bodies, "segments": site_segments(tx, site.num)}

        found = await run_in_threadpool(store.read, read)
        more = len(found["people"]) > PEOPLE_PAGE
        given = dict(q)
        return html(
            "people.html",
            page,
            people=found["people"][:PEOPLE_PAGE],
            segments=found["segments"],
            given=given,
            next_page=_with(given, offset=str(offset + PEOPLE_PAGE)) if more else None,
        )

    @web.get("/sites/{site_id}/people/{person_id}")
    @guarded
    async def person(request: Request, site_id: str, person_id: str) -> Response:
        page = await page_for(request, site_id)
        site = page.here

        def read(tx: Tx) -> dict[str, Any] | None:
            row = tx.one("SELECT * FROM people WHERE id = ? AND site_num = ?", (person_id, site.num))
            if row is None:
                return None
            detail = person_detail(tx, row)
            paid = tx.all("SELECT * FROM payments WHERE person_num = ? ORDER BY ts DESC LIMIT 100", (row["num"],))
            return {"person": detail, "payments": paid}

        found = await run_in_threadpool(store.read, read)
        if found is None:
            raise NotFound
        return html("person.html", page, **found)

    # -- companies and visitors ----------------------------------------------------------------------------

    @web.get("/sites/{site_id}/companies")
    @guarded
    async def company_list(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        num = page.here.num
        found = await run_in_threadpool(store.read, lambda tx: companies(tx, num, hosting))
        return html("companies.html", page, companies=found)

    @web.get("/sites/{site_id}/visitors")
    @guarded
    async def visitors(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        site = page.here
        given = {k: v for k, v in request.query_params.items() if v}
        try:
            query = visitor_list.parse(given | {"limit": "50"}, site.timezone)
        except visitor_list.BadQuery as exc:
            return html("visitors.html", page, 400, error=str(exc), visitors=[], given=given, next_page=None)

        def read(tx: Tx) -> dict[str, Any]:
            found = visitor_list.list_visitors(tx, site.num, query)
            ids = [v["visitorId"] for v in found["data"]]
            named = (
                tx.all(  # who the identified ones are
                    f"SELECT v.id, p.id AS person_id, COALESCE(p.name, p.email, p.user_id) AS name FROM visitors v "
                    f"JOIN people p ON p.num = v.person_num WHERE v.id IN ({', '.join('?' * len(ids))})",
                    ids,
                )
                if ids
                else []
            )
            people = {r["id"]: r for r in named}
            for v in found["data"]:
                v["person"] = people.get(v["visitorId"])
            return found

        found = await run_in_threadpool(store.read, read)
        more = found["pagination"]["hasMore"]
        next_page = _with(given, offset=str(query.offset + query.limit)) if more else None
        return html("visitors.html", page, error=None, visitors=found["data"], given=given, next_page=next_page)

    # -- install and sources ---------------------------------------------------------------------------------

    @web.get("/sites/{site_id}/install")
    @guarded
    async def install(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        site = page.here

        def read(tx: Tx) -> dict[str, Any]:
            last = tx.one("SELECT ts FROM events WHERE site_num = ? ORDER BY ts DESC LIMIT 1", (site.num,))
            sources = tx.all(
                "SELECT o.*, (SELECT COUNT(*) FROM source_rows r WHERE r.source_id = o.id) AS row_count "
                "FROM sources o WHERE o.site_id = ? ORDER BY o.num",
                (site.id,),
            )
            return {"last_event": last["ts"] if last else None, "sources": sources}

        found = await run_in_threadpool(store.read, read)
        base = settings.public_url or str(request.base_url)
        return html("install.html", page, snippet=snippet(base, site.id, site.domain), base=base.rstrip("/"), **found)

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

        found = await run_in_threadpool(store.read, read)
        values = {"workflows": found, "problems": [], "made": None, "fields": FIELDS[PERSONAL]} | extra
        return html("workflows.html", page, status, **values)

    @web.get("/sites/{site_id}/workflows")
    @guarded
    async def workflows(request: Request, site_id: str) -> Response:
        return await workflows_page(request, await page_for(request, site_id))

    @web.post("/sites/{site_id}/workflows")
    @guarded
    async def add_workflow(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        form = await form_of(request, page)
        body: dict[str, Any] = {
            "name": form.get("name", ""),
            "kind": form.get("kind", ""),
            "url": form.get("url", ""),
            "inputs": [i.strip() for i in form.get("inputs", "").split(",") if i.strip()],
        }
        if body["kind"] == "slack":
            body["template"] = form.get("template", "")
        problems = Problems()
        fields = workflow_fields(body, problems, False, body["kind"] if isinstance(body["kind"], str) else None)
        if problems.items:
            return await workflows_page(request, page, 400, problems=[p["message"] for p in problems.items])
        now, account = clock.now_ms(), page.session.user.account_id
        made = await run_in_threadpool(store.write, lambda tx: create_workflow(tx, account, fields, now))
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

        found = await run_in_threadpool(store.read, read)
        if found is None:
            raise NotFound
        values = {"problems": [], "synced": None, "fields": FIELDS} | found | extra
        return html("workflow.html", page, status, **values)

    @web.get("/sites/{site_id}/workflows/{workflow_id}")
    @guarded
    async def workflow(request: Request, site_id: str, workflow_id: str) -> Response:
        return await workflow_page(request, await page_for(request, site_id), workflow_id)

    @web.post("/sites/{site_id}/workflows/{workflow_id}/sync")
    @guarded
    async def sync(request: Request, site_id: str, workflow_id: str) -> Response:
        page = await page_for(request, site_id)
        form = await form_of(request, page)
        account, now = page.session.user.account_id, clock.now_ms()
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
            synced = await run_in_threadpool(store.write, go)
        except ApiError as exc:
            problems = [p["message"] for p in (exc.extra or {}).get("errors", [])] or [exc.message]
            return await workflow_page(request, page, workflow_id, 400, problems=problems)
        if synced is None:
            raise NotFound
        return await workflow_page(request, page, workflow_id, synced=synced)

    @web.post("/sites/{site_id}/workflows/{workflow_id}/deliveries/{delivery_id}/replay")
    @guarded
    async def replay(request: Request, site_id: str, workflow_id: str, delivery_id: str) -> Response:
        page = await page_for(request, site_id)
        await form_of(request, page)
        account, now = page.session.user.account_id, clock.now_ms()

        def go(tx: Tx) -> bool:
            if tx.one("SELECT 1 AS x FROM workflows WHERE id = ? AND account_id = ?", (workflow_id, account)) is None:
                return False
            return replay_delivery(tx, workflow_id, delivery_id, now) is not None

        if not await run_in_threadpool(store.write, go):
            raise NotFound
        return redirect(f"/sites/{site_id}/workflows/{workflow_id}")

    # -- contacts -------------------------------------------------------------------------------------------

    @web.get("/sites/{site_id}/contacts")
    @guarded
    async def contacts(request: Request, site_id: str) -> Response:
        return html("contacts.html", await page_for(request, site_id), result=None, error=None)

    @web.post("/sites/{site_id}/contacts")
    @guarded
    async def import_contacts(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        site = page.here
        form = await form_of(request, page)
        try:
            people_rows, company_rows = imports.parse(form.get("csv", "").encode(), "text/csv")
        except imports.BadImport as exc:
            return html("contacts.html", page, 400, result=None, error=str(exc))
        now = clock.now_ms()
        result = await run_in_threadpool(
            store.write, lambda tx: imports.import_rows(tx, site, people_rows, company_rows, now, links)
        )
        return html("contacts.html", page, result=result, error=None)

    # -- API keys -------------------------------------------------------------------------------------------

    async def keys_page(request: Request, page: Page, status: int = 200, **extra: Any) -> Response:
        account = page.session.user.account_id
        found = await run_in_threadpool(store.read, lambda tx: accounts.list_keys(tx, account))
        domains = {site.id: site.domain for site in page.sites}
        values = {"keys": found, "scopes": accounts.SCOPES, "domains": domains, "made": None, "error": None} | extra
        return html("keys.html", page, status, **values)

    @web.get("/keys")
    @guarded
    async def keys(request: Request) -> Response:
        return await keys_page(request, await page_for(request))

    @web.post("/keys")
    @guarded
    async def add_key(request: Request) -> Response:
        page = await page_for(request)
        form = await form_of(request, page)
        scopes, site_id = form.getlist("scope"), form.get("site") or None
        now, account = clock.now_ms(), page.session.user.account_id
        try:
            clear, _ = await run_in_threadpool(
                store.write,
                lambda tx: accounts.create_key(tx, account, scopes, now, site_id=site_id, name=form.get("name", "")),
            )
        except accounts.InvalidInput as exc:
            return await keys_page(request, page, 400, error=str(exc))
        return await keys_page(request, page, made=clear)

    @web.post("/keys/{key_id}/revoke")
    @guarded
    async def revoke_key(request: Request, key_id: str) -> Response:
        page = await page_for(request)
        await form_of(request, page)
        now, account = clock.now_ms(), page.session.user.account_id
        try:
            await run_in_threadpool(store.write, lambda tx: accounts.revoke_key(tx, account, key_id, now))
        except accounts.InvalidInput:
            raise NotFound from None
        return redirect("/keys")

    # -- site settings --------------------------------------------------------------------------------------

    @web.get("/sites/{site_id}/settings")
    @guarded
    async def site_settings(request: Request, site_id: str) -> Response:
        return html("settings.html", await page_for(request, site_id), saved=False, error=None)

    @web.post("/sites/{site_id}/settings")
    @guarded
    async def save_settings(request: Request, site_id: str) -> Response:
        page = await page_for(request, site_id)
        site = page.here
        form = await form_of(request, page)
        timezone = form.get("timezone", "UTC").strip() or "UTC"
        try:
            ZoneInfo(timezone)
        except (ValueError, KeyError):
            return html("settings.html", page, 400, saved=False, error=f"unknown timezone {timezone!r}")
        hostnames = [h.strip().lower() for h in form.get("allowed_hostnames", "").split(",") if h.strip()]
        goals = [g.strip() for g in form.get("conversion_goals", "").split(",") if g.strip()]
        changes: dict[str, Any] = {flag: form.get(flag) == "on" for flag in SITE_FLAGS}
        changes["conversion_goals"] = goals
        try:
            changes |= accounts.privacy_changes({name: form.get(name, "") for name in PRIVACY_FIELDS})
        except accounts.InvalidInput as exc:
            return html("settings.html", page, 400, saved=False, error=str(exc))

        def go(tx: Tx) -> Site:
            tx.execute(
                "UPDATE sites SET timezone = ?, allowed_hostnames = ? WHERE id = ?",
                (timezone, dumps(hostnames), site.id),
            )
            return accounts.update_site_settings(tx, site.id, changes)

        page.site = await run_in_threadpool(store.write, go)
        page.sites = [page.site if s.id == site.id else s for s in page.sites]
        return html("settings.html", page, saved=True, error=None)

    return web


# site settings the settings page turns on and off (docs/tracker.md, docs/identity.md, docs/people.md)
SITE_FLAGS = ("respect_gpc", "respect_dnt", "consent_required", "device_signals", "form_capture", "truncate_ips")
PRIVACY_FIELDS = ("exclude_ips", "exclude_countries", "exclude_paths", "exclude_hostnames", "retention_days")


def _panel_row(endpoint: str, row: Row) -> dict[str, Any]:
    """A breakdown row as a panel shows it: a label, the filter value, visitors and revenue."""
    if endpoint == "pages":
        label = value = row["path"]
    elif endpoint == "campaigns":
        campaign = row["campaign"]
        value = campaign.get("utm_source") or ""
        parts = (campaign.get("utm_source"), campaign.get("utm_medium"), campaign.get("utm_campaign"))
        label = " / ".join(v for v in parts if v)
        label = label or campaign.get("ref") or campaign.get("source") or campaign.get("via") or "(none)"
    else:
        key = {"referrers": "referrer", "countries": "country", "devices": "device"}[endpoint]
        label = value = row[key] or ""
    return {"label": label or "(none)", "value": value, "visitors": row["visitors"], "revenue": row.get("revenue", 0)}
