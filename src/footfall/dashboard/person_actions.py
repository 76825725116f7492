"""The person page's actions (docs/dashboard.md, "Person"): merge another person into this one
(by id or email; a claim that conflicts with a verified person offers it), and take a browser
away from them ("Not this person"), through the same functions as the API's merge and split."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.dashboard.web import NotFound, Web
from footfall.identity.people import People, find_person, id_locks, split
from footfall.store.base import Row, Tx


def other_person(tx: Tx, site_num: int, given: str) -> Row | None:
    """A person of the site by id, or by one of their emails."""
    given = given.strip()
    found = find_person(tx, site_num, given)
    if found is None and "@" in given:
        row = tx.one(
            "SELECT p.* FROM people p JOIN person_ids i ON i.person_num = p.num "
            "WHERE p.site_num = ? AND i.kind = 'email' AND i.value = ?",
            (site_num, given.lower()),
        )
        found = row
    return found


def add_routes(web: Web, api: APIRouter) -> None:
    @api.post("/sites/{site_id}/people/{person_id}/merge")
    @web.guarded
    async def merge(request: Request, site_id: str, person_id: str) -> Response:
        page = await web.page_for(request, site_id)
        form = await web.form_of(request, page)
        site = page.here

        def go(tx: Tx) -> str:
            kept = find_person(tx, site.num, person_id)
            if kept is None:
                raise NotFound
            gone = other_person(tx, site.num, form.get("other", "")[:320])
            if gone is None:
                return "unknown"
            if gone["num"] == kept["num"]:
                return "same"
            tx.lock(id_locks(tx, site.num, [kept["num"], gone["num"]]))
            People(tx).merge(gone["num"], kept["num"])
            return "merged"

        done = await run_in_threadpool(web.store.write, go)
        return web.redirect(f"/sites/{site_id}/people/{person_id}?done={done}")

    @api.post("/sites/{site_id}/people/{person_id}/split")
    @web.guarded
    async def split_off(request: Request, site_id: str, person_id: str) -> Response:
        page = await web.page_for(request, site_id)
        form = await web.form_of(request, page)
        site = page.here

        def go(tx: Tx) -> str:
            person = find_person(tx, site.num, person_id)
            if person is None:
                raise NotFound
            return "split" if split(tx, site, person, form.get("visitor", "")) is not None else "unknown"

        done = await run_in_threadpool(web.store.write, go)
        return web.redirect(f"/sites/{site_id}/people/{person_id}?done={done}")
