"""CSV exports of the dashboard's lists (docs/dashboard.md): `people.csv`, `visitors.csv` and
`companies.csv` under a site, each with every row the page would list across all its pages (the
page's own filters apply), up to `EXPORT_MAX` rows, written with formula-safe cells (csvcells.py:
a value starting with `=`, `+`, `-` or `@` is not run by a spreadsheet)."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.api.people import ORDERS
from footfall.csvcells import write_rows
from footfall.dashboard.web import SECURITY_HEADERS, Web
from footfall.queries import visitor_list
from footfall.queries.companies import companies
from footfall.queries.people import person_body
from footfall.store.base import Tx

EXPORT_MAX = 100_000
PEOPLE = ["id", "name", "email", "userId", "company", "companyDomain", "industry", "title", "phone", "location",
          "country", "identifiedAt", "firstVisitAt", "lastVisitAt", "visitCount", "pageViewCount", "score",
          "conversionRate", "segments"]  # fmt: skip
VISITORS = ["visitorId", "person", "email", "lastSeenAt", "currentUrl", "city", "region", "country", "browser", "os",
            "device", "referrer", "channel", "source", "campaign"]  # fmt: skip
COMPANIES = ["key", "name", "domain", "industry", "size", "country", "linkedinUrl", "source", "people", "visits",
             "lastVisitAt"]  # fmt: skip
EXACT = frozenset({"id", "visitorId", "key"})  # footfall's own ids, written as they are


def csv_response(name: str, columns: list[str], rows: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    write_rows(out, columns, rows, EXACT)
    headers = SECURITY_HEADERS | {"content-disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def person_row(body: dict[str, Any]) -> dict[str, Any]:
    prediction = body["prediction"] or {}
    return body | {
        "score": prediction.get("score"),
        "conversionRate": prediction.get("conversionRate"),
        "segments": "; ".join(s["segmentName"] for s in body["segments"]),
    }


def visitor_row(v: dict[str, Any]) -> dict[str, Any]:
    person = v.get("person") or {}
    return {
        "visitorId": v["visitorId"],
        "person": person.get("name"),
        "email": person.get("email"),
        "lastSeenAt": v["lastSeenAt"],
        "currentUrl": v["currentUrl"],
        **{k: v["identity"].get(k) for k in ("city", "region", "country", "browser", "os", "device")},
        **{k: v["acquisition"].get(k) for k in ("referrer", "channel", "source", "campaign")},
    }


def add_routes(web: Web, api: APIRouter) -> None:
    @api.get("/sites/{site_id}/people.csv")
    @web.guarded
    async def people_csv(request: Request, site_id: str) -> Response:
        site = (await web.page_for(request, site_id)).here
        search = request.query_params.get("q", "").strip().lower()
        order = ORDERS.get(request.query_params.get("sort", "identified"), ORDERS["identified"])

        def read(tx: Tx) -> list[dict[str, Any]]:
            where, params = "p.site_num = ?", list[Any]([site.num])
            if search:
                where += " AND (LOWER(p.name) LIKE ? OR LOWER(p.email) LIKE ? OR LOWER(p.company) LIKE ?)"
                params += [f"%{search}%"] * 3
            rows = tx.all(f"SELECT p.* FROM people p WHERE {where} ORDER BY {order} LIMIT ?", (*params, EXPORT_MAX))
            return [person_row(person_body(tx, r)) for r in rows]

        found = await run_in_threadpool(web.store.read, read)
        return csv_response(f"people-{site.domain}.csv", PEOPLE, found)

    @api.get("/sites/{site_id}/visitors.csv")
    @web.guarded
    async def visitors_csv(request: Request, site_id: str) -> Response:
        site = (await web.page_for(request, site_id)).here
        given = {k: v for k, v in request.query_params.items() if v and k not in ("limit", "offset")}
        try:
            visitor_list.parse(given, site.timezone)
        except visitor_list.BadQuery as exc:
            return Response(str(exc), 400, media_type="text/plain", headers=SECURITY_HEADERS)

        def read(tx: Tx) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            while len(out) < EXPORT_MAX:  # the list's own pages, one after the other
                query = visitor_list.parse(given | {"limit": str(visitor_list.LIMIT_MAX), "offset": str(len(out))},
                                           site.timezone)  # fmt: skip
                found = visitor_list.list_visitors(tx, site.num, query)
                named = visitor_list.named(tx, [v["visitorId"] for v in found["data"]])
                out += [visitor_row(v | {"person": named.get(v["visitorId"])}) for v in found["data"]]
                if not found["pagination"]["hasMore"]:
                    break
            return out

        found = await run_in_threadpool(web.store.read, read)
        return csv_response(f"visitors-{site.domain}.csv", VISITORS, found)

    @api.get("/sites/{site_id}/companies.csv")
    @web.guarded
    async def companies_csv(request: Request, site_id: str) -> Response:
        site = (await web.page_for(request, site_id)).here
        found = await run_in_threadpool(web.store.read, lambda tx: companies(tx, site.num, web.hosting))
        return csv_response(f"companies-{site.domain}.csv", COMPANIES, found[:EXPORT_MAX])
