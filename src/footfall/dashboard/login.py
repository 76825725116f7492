"""Logging in and out of the dashboard (docs/dashboard.md)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.dashboard import users
from footfall.dashboard.web import COOKIE, LOGIN_CSRF, Forbidden, Web


def add_routes(web: Web, api: APIRouter) -> None:
    # -- login --------------------------------------------------------------------------------------

    @api.get("/login")
    async def login_form(request: Request) -> Response:
        token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
        response = web.html("login.html", None, next=request.query_params.get("next", "/"), csrf=token, error=None)
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", secure=web.secure, path="/login")
        return response

    @api.post("/login")
    async def login(request: Request) -> Response:
        try:
            form = await web.form_of(request, None, request.cookies.get(LOGIN_CSRF))
        except Forbidden:
            return web.html("error.html", None, 403, title="Refused", message="The login form expired: reload it.")
        email, password = form.get("email", ""), form.get("password", "")
        user = await run_in_threadpool(web.store.read, lambda tx: users.authenticate(tx, email, password))
        target = form.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        if user is None:
            csrf = request.cookies.get(LOGIN_CSRF)
            return web.html("login.html", None, 401, next=target, csrf=csrf, error="Wrong email or password.")
        now = web.clock.now_ms()
        token = await run_in_threadpool(web.store.write, lambda tx: users.start_session(tx, user, now))
        response = web.redirect(target)
        response.set_cookie(
            COOKIE,
            token,
            max_age=users.SESSION_DAYS * 86400,
            httponly=True,
            samesite="lax",
            secure=web.secure,
            path="/",
        )
        return response

    @api.post("/logout")
    @web.guarded
    async def logout(request: Request) -> Response:
        page = await web.page_for(request)
        await web.form_of(request, page)
        token = request.cookies.get(COOKIE, "")
        await run_in_threadpool(web.store.write, lambda tx: users.end_session(tx, token))
        response = web.redirect("/login")
        response.delete_cookie(COOKIE, path="/")
        return response
