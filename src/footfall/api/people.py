"""People: identify (DataFast's `POST /api/v1/identify`, PostMetric's `POST /api/identify`) and
footfall's own people routes (`GET /api/v1/people`, `GET`/`DELETE /api/v1/people/{id}`,
`POST /api/v1/people/{id}/merge`). docs/people.md has the rules; docs/api.md the shapes.

Reading people needs `analytics:read`; identifying, merging and deleting need `identify:write`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from footfall import accounts, ids, imports
from footfall.api.auth import Authenticator
from footfall.api.bodies import json_as, json_object
from footfall.api.errors import ApiError
from footfall.bounds import INT_MAX
from footfall.clock import Clock
from footfall.enrich.campaign import LINK_TOKEN
from footfall.enrich.networks import HostingNetworks
from footfall.identity.claims import Claim, clean_id, lock_keys
from footfall.identity.devices import detach_alias, lock_key
from footfall.identity.people import People, find_person, id_locks, split
from footfall.ids import LinkSigner, VisitorSigner, is_uuid
from footfall.ingest.payloads import POSTMETRIC_PREFIX
from footfall.model import Site
from footfall.queries import companies, ranges, segments
from footfall.queries.people import person_body, person_detail
from footfall.queries.visitors import erase_visitor, find_visitor, visitor_group
from footfall.rollups import forget_visits
from footfall.scoring.predictions import PERSON_SCORE
from footfall.sources import SourceRows, Touch
from footfall.store.base import Row, Store, Tx
from footfall.workflows import on_new_rows

LIST_DEFAULT, LIST_MAX = 20, 200


ORDERS = {  # the people list's `sort`
    "identified": "p.identified_at DESC, p.num DESC",
    # the best lead score among their visitors (docs/scoring.md); customers and the unscored last
    "score": PERSON_SCORE.format(person="p.num") + " DESC NULLS LAST, p.num DESC",
}


def identify(tx: Tx, signer: VisitorSigner, site: Site, visitor_id: str | None, claim: Claim) -> Row | None:
    """The person a claim names, linked to the browser (when it exists; a presumed browser first
    becomes a visitor of its own, and a keyless claim never moves a verified person's browser):
    one transaction."""
    if visitor_id:  # the writer's order: the visitor first, then the ids
        signed = signer.verify(site.id, visitor_id)
        tx.lock([lock_key(site.id, ("id", visitor_id.lower()) if signed else ("client", visitor_id))])
    tx.lock(lock_keys([claim]))
    people = People(tx)
    browser = find_visitor(tx, signer, site.id, visitor_id) if visitor_id else None
    own = browser["person_num"] if browser is not None else None
    person = people.claim(claim, browser_person=own)
    if person is None or browser is None or not people.may_link(own, person, claim):
        return person
    if browser["alias_of"] is not None:
        detach_alias(tx, browser["num"])
    people.link(browser["num"], person["num"])
    latest = tx.one("SELECT num, person_num FROM sessions WHERE visitor_num = ? ORDER BY num DESC LIMIT 1",
                    (browser["num"],))  # fmt: skip
    if latest is not None:  # the person's rows in the site's Floqer sources
        touch = Touch(site.id, site.num, claim.ts, "identify", latest["num"], latest["person_num"])
        on_new_rows(tx, SourceRows(tx, HostingNetworks()).apply([touch]), claim.ts)
    return person


def has_pageviews(tx: Tx, signer: VisitorSigner, site_id: str, visitor_id: str) -> bool:
    browser = find_visitor(tx, signer, site_id, visitor_id)
    if browser is None:
        return False
    _, nums = visitor_group(tx, browser)
    marks = ",".join("?" * len(nums))
    row = tx.one(f"SELECT 1 AS one FROM sessions WHERE visitor_num IN ({marks}) AND pageviews > 0 LIMIT 1", nums)
    return row is not None


def erase_person(tx: Tx, person: Row, now_ms: int) -> None:
    """Deletes the person, the visits that were theirs and the visitors only they used (a shared
    computer's visitor keeps the other people's visits, unlinked from this one)."""
    num = person["num"]
    browsers = sorted({r["n"] for r in tx.all("SELECT visitor_num AS n FROM sessions WHERE person_num = ?", (num,))})
    forget_visits(tx, "person_num = ?", (num,))
    # their rows in Floqer sources, and what was still to be delivered of them
    tx.execute(
        "DELETE FROM deliveries WHERE status <> 'delivered' AND row_num IN "
        "(SELECT num FROM source_rows WHERE person_num = ?)",
        (num,),
    )
    tx.execute("DELETE FROM source_rows WHERE person_num = ?", (num,))
    for i in range(0, len(browsers), 500):  # through the visitors' index (session_num has none)
        chunk = browsers[i : i + 500]
        tx.execute(
            f"DELETE FROM events WHERE visitor_num IN ({','.join('?' * len(chunk))}) "
            "AND session_num IN (SELECT num FROM sessions WHERE person_num = ?)",
            (*chunk, num),
        )
    tx.execute("DELETE FROM sessions WHERE person_num = ?", (num,))
    for root in tx.all("SELECT * FROM visitors WHERE person_num = ?", (num,)):
        _, nums = visitor_group(tx, root)
        marks = ",".join("?" * len(nums))
        others = tx.one(f"SELECT 1 AS one FROM sessions WHERE visitor_num IN ({marks}) LIMIT 1", nums)
        if others is None:
            erase_visitor(tx, nums, now_ms)
        else:  # its score counted the erased visits: it is scored again from what is left
            tx.execute("UPDATE visitors SET person_num = NULL WHERE num = ?", (root["num"],))
            tx.execute("DELETE FROM visitor_scores WHERE visitor_num = ?", (root["num"],))
    # payments stay in the owner's books, without who paid
    tx.execute(
        "UPDATE payments SET person_num = NULL, email = NULL, name = NULL, customer_id = NULL WHERE person_num = ?",
        (num,),
    )
    emails = tx.all("SELECT value FROM person_ids WHERE person_num = ? AND kind = 'email'", (num,))
    for email in emails:  # what the enrichment provider said of them
        tx.execute("DELETE FROM enrichment_cache WHERE key = ?", (f"person:{email['value']}",))
    tx.execute("DELETE FROM person_ids WHERE person_num = ?", (num,))
    tx.execute("DELETE FROM merged_people WHERE into_num = ?", (num,))
    tx.execute("DELETE FROM people WHERE num = ?", (num,))


class MergeBody(msgspec.Struct, forbid_unknown_fields=True):
    personId: str  # noqa: N815 - the native API's camelCase


class SplitBody(msgspec.Struct, forbid_unknown_fields=True):
    visitorId: str  # noqa: N815


def with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LINK_TOKEN]
    return urlunsplit(parts._replace(query=urlencode([*query, (LINK_TOKEN, token)])))


def router(
    store: Store,
    auth: Authenticator,
    signer: VisitorSigner,
    links: LinkSigner,
    clock: Clock,
    hosting: HostingNetworks,
) -> APIRouter:
    api = APIRouter(tags=["People"])

    async def person_or_404(site: Site, person_id: str) -> Row:
        person = await run_in_threadpool(store.read, lambda tx: find_person(tx, site.num, person_id))
        if person is None:
            raise ApiError(404, "Person not found on this website")
        return person

    @api.post("/api/v1/identify", summary="Identify a visitor (DataFast)")
    async def datafast_identify(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "identify:write")
        body = await json_object(request)
        user_id, visitor_id = body.get("user_id"), body.get("datafast_visitor_id")
        if not isinstance(user_id, str) or not user_id.strip():
            raise ApiError(400, "user_id is required (a non-empty string)")
        if len(user_id) > 255:
            raise ApiError(400, "user_id must be at most 255 characters")
        if not isinstance(visitor_id, str) or not is_uuid(visitor_id):
            raise ApiError(400, "datafast_visitor_id is required (a UUID)")
        if clean_id(user_id) is None:
            raise ApiError(400, f"user_id {user_id!r} does not identify anyone (a placeholder id)")
        site = caller.site
        if not await run_in_threadpool(store.read, lambda tx: has_pageviews(tx, signer, site.id, visitor_id)):
            raise ApiError(404, "Visitor not found or has no pageviews on this website")
        props = {k: v for k, v in body.items() if k != "datafast_visitor_id"}
        claim = Claim.from_properties(site.num, clock.now_ms(), "api", props)  # keyed: the owner's word
        person = await run_in_threadpool(store.write, lambda tx: identify(tx, signer, site, visitor_id, claim))
        assert person is not None
        created = {"message": "User profile created successfully", "profileId": person["id"]}
        return {"status": "success", "data": created}

    @api.post("/api/identify", summary="Identify a visitor (PostMetric)")
    async def postmetric_identify(request: Request) -> JSONResponse:
        try:
            body = await json_object(request, "postmetric")
        except ApiError as exc:
            return JSONResponse({"error": exc.message}, 400)
        if not body.get("site") or not body.get("userId"):
            return JSONResponse({"error": "site and userId are required"}, 400)
        site_id = str(body["site"]).removeprefix(POSTMETRIC_PREFIX)
        site = await run_in_threadpool(store.read, lambda tx: accounts.get_site(tx, site_id))
        if site is None:
            return JSONResponse({"error": "Website not found"}, 404)
        visitor_id = body.get("visitorId") if isinstance(body.get("visitorId"), str) else None
        props = {k: v for k, v in body.items() if k in ("userId", "email", "name")}
        claim = Claim.from_properties(site.num, clock.now_ms(), "identify", props)
        if claim.user_id is None:
            return JSONResponse({"error": "userId does not identify anyone (a placeholder id)"}, 400)
        await run_in_threadpool(store.write, lambda tx: identify(tx, signer, site, visitor_id, claim))
        return JSONResponse({"success": True, "message": "User identified successfully"})

    @api.post("/api/v1/links", summary="Make an email-link token for a contact")
    async def make_link(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "identify:write")
        body = await json_object(request)
        url = body.pop("url", None)
        if url is not None and (not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https")):
            raise ApiError(400, "url must be an absolute http(s) URL")
        claim = Claim.from_properties(caller.site.num, clock.now_ms(), "import", body)
        if claim.email is None:
            raise ApiError(400, "email is required (a valid address): a link token names one contact")
        site = caller.site
        person = await run_in_threadpool(store.write, lambda tx: identify(tx, signer, site, None, claim))
        assert person is not None
        token = links.token(site.id, person["id"], clock.now_ms())
        data = {"personId": person["id"], "token": token, "url": with_token(url, token) if url else None}
        return {"status": "success", "data": data}

    @api.post("/api/v1/contacts/import", summary="Import contacts and companies (CSV or JSON)")
    async def import_contacts(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "identify:write")
        try:
            contacts, companies = imports.parse(await request.body(), request.headers.get("content-type", ""))
        except (imports.BadImport, UnicodeDecodeError) as exc:
            raise ApiError(400, str(exc)) from exc
        site, now = caller.site, clock.now_ms()
        result = await run_in_threadpool(
            store.write, lambda tx: imports.import_rows(tx, site, contacts, companies, now, links)
        )
        return {"status": "success", "data": result.as_json()}

    @api.post("/api/v1/segments", summary="Make a segment", status_code=201)
    async def make_segment(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "settings:write")
        given = await json_as(request, segments.SegmentBody, "a segment is {name, rules}")
        if not given.name.strip() or len(given.name) > 100:
            raise ApiError(400, "name: 1 to 100 characters")
        row = {"id": "seg_" + ids.site_id(), "name": given.name.strip(), "rules": segments.encode_rules(given.rules)}

        def go(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO segments (id, site_num, name, rules, created_at) VALUES (?, ?, ?, ?, ?)",
                (row["id"], caller.site.num, row["name"], row["rules"], clock.now_ms()),
            )

        await run_in_threadpool(store.write, go)
        return {"status": "success", "data": segments.segment_json(row)}

    @api.get("/api/v1/segments", summary="List segments")
    async def list_segments(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        rows = await run_in_threadpool(store.read, lambda tx: segments.site_segments(tx, caller.site.num))
        return {"status": "success", "data": [segments.segment_json(r) for r in rows]}

    @api.delete("/api/v1/segments/{segment_id}", summary="Delete a segment")
    async def delete_segment(segment_id: str, request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "settings:write")

        def go(tx: Tx) -> bool:
            found = tx.one("SELECT num FROM segments WHERE id = ? AND site_num = ?", (segment_id, caller.site.num))
            if found:
                tx.execute("DELETE FROM segments WHERE num = ?", (found["num"],))
            return found is not None

        if not await run_in_threadpool(store.write, go):
            raise ApiError(404, "Segment not found on this website")
        return {"status": "success", "data": {"id": segment_id, "deleted": True}}

    @api.get("/api/v1/companies", summary="List companies")
    async def list_companies(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        q = request.query_params
        limit = _int(q.get("limit"), LIST_DEFAULT, 1, LIST_MAX, "limit")
        offset = _int(q.get("offset"), 0, 0, None, "offset")
        found = await run_in_threadpool(store.read, lambda tx: companies.companies(tx, caller.site.num, hosting))
        page = found[offset : offset + limit]
        return {
            "status": "success",
            "data": page,
            "pagination": {"limit": limit, "offset": offset, "total": len(found)},
        }

    @api.get("/api/v1/companies/{key}", summary="Get a company (by domain, or AS<number> for a network)")
    async def get_company(key: str, request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")

        def go(tx: Tx) -> dict[str, Any] | None:
            found = companies.company(tx, caller.site.num, key, hosting)
            if found is None:
                return None
            nums = found.pop("personNums", [])
            rows = [tx.one("SELECT * FROM people WHERE num = ?", (n,)) for n in nums]
            return found | {"peopleList": [person_body(tx, r) for r in rows if r is not None]}

        body = await run_in_threadpool(store.read, go)
        if body is None:
            raise ApiError(404, "Company not found on this website")
        return {"status": "success", "data": body}

    @api.get("/api/v1/people", summary="List people")
    async def list_people(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        q = request.query_params
        limit = _int(q.get("limit"), LIST_DEFAULT, 1, LIST_MAX, "limit")
        offset = _int(q.get("offset"), 0, 0, None, "offset")
        where, params = ["p.site_num = ?"], list[Any]([caller.site.num])
        for name, kind in (("email", "email"), ("user_id", "user_id")):
            if q.get(name):
                where.append(f"p.num IN (SELECT person_num FROM person_ids WHERE kind = '{kind}' AND value = ?)")
                params.append(q[name].strip().lower() if kind == "email" else q[name])
        if q.get("company"):
            where.append("LOWER(p.company) = ?")
            params.append(q["company"].strip().lower())
        if q.get("identified_since"):
            where.append("p.identified_at >= ?")
            params.append(_int(q["identified_since"], 0, 0, None, "identified_since"))
        clause = " AND ".join(where)
        sort = q.get("sort", "identified")
        if sort not in ORDERS:
            raise ApiError(400, f"Invalid sort: expected one of {', '.join(ORDERS)}")

        def go(tx: Tx) -> dict[str, Any]:
            total = tx.one(f"SELECT COUNT(*) AS n FROM people p WHERE {clause}", params)
            rows = tx.all(
                f"SELECT p.* FROM people p WHERE {clause} ORDER BY {ORDERS[sort]} LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
            return {
                "status": "success",
                "data": [person_body(tx, r) for r in rows],
                "pagination": {"limit": limit, "offset": offset, "total": total["n"] if total else 0},
            }

        return await run_in_threadpool(store.read, go)

    @api.get("/api/v1/people/{person_id}", summary="Get a person")
    async def get_person(person_id: str, request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        person = await person_or_404(caller.site, person_id)
        return {"status": "success", "data": await run_in_threadpool(store.read, lambda tx: person_detail(tx, person))}

    @api.post("/api/v1/people/{person_id}/merge", summary="Merge another person into this one")
    async def merge_people(person_id: str, request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "identify:write")
        other_id = (await json_as(request, MergeBody, 'body must be {"personId": "..."}')).personId
        kept, gone = await person_or_404(caller.site, person_id), await person_or_404(caller.site, other_id)
        if kept["num"] == gone["num"]:
            raise ApiError(400, "a person cannot be merged into itself")

        def go(tx: Tx) -> dict[str, Any]:
            tx.lock(id_locks(tx, caller.site.num, [kept["num"], gone["num"]]))
            People(tx).merge(gone["num"], kept["num"])
            merged = tx.one("SELECT * FROM people WHERE num = ?", (kept["num"],))
            assert merged is not None
            return person_body(tx, merged)

        return {"status": "success", "data": await run_in_threadpool(store.write, go)}

    @api.post("/api/v1/people/{person_id}/split", summary="Take a browser away from this person")
    async def split_person(person_id: str, request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "identify:write")
        visitor_id = (await json_as(request, SplitBody, 'body must be {"visitorId": "..."}')).visitorId
        person = await person_or_404(caller.site, person_id)

        def go(tx: Tx) -> dict[str, Any] | None:
            found = split(tx, caller.site, person, visitor_id)
            return None if found is None else person_body(tx, found)

        body = await run_in_threadpool(store.write, go)
        if body is None:
            raise ApiError(404, "No browser with this visitorId belongs to this person")
        return {"status": "success", "data": body}

    @api.delete("/api/v1/people/{person_id}", summary="Delete a person and their visits")
    async def delete_person(person_id: str, request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "identify:write")
        person = await person_or_404(caller.site, person_id)
        now = clock.now_ms()
        await run_in_threadpool(store.write, lambda tx: erase_person(tx, person, now))
        await run_in_threadpool(store.scrub)
        return {"status": "success", "data": {"id": person["id"], "deleted": True}}

    return api


def _int(raw: str | None, default: int, low: int, high: int | None, name: str) -> int:
    """`ranges.integer` with the API's error."""
    try:
        return ranges.integer(raw, name, default, low, INT_MAX if high is None else high)
    except ranges.BadQuery as exc:
        raise ApiError(400, str(exc)) from exc
