"""Logging in and out of the dashboard (docs/dashboard.md). Logins are throttled per client
address and per account, and passwords are checked in a pool of their own (dashboard/throttle.py)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.dashboard import users
from footfall.dashboard.throttle import Busy, Throttled
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
        email, password = form.get("email", "")[:320], form.get("password", "")[:1024]
        target = form.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        csrf = request.cookies.get(LOGIN_CSRF)
        address = web.client_ip(request) or "unknown"
        try:
            attempt = web.throttle.begin(address, email)
        except Throttled as exc:
            message = f"Too many failed logins. Try again in {exc.retry_after} seconds."
            response = web.html("login.html", None, 429, next=target, csrf=csrf, error=message)
            response.headers["retry-after"] = str(exc.retry_after)
            return response
        row = await run_in_threadpool(web.store.read, lambda tx: users.find_user(tx, email))
        try:
            user, rehash = await web.passwords.run(lambda: users.verify(row, password))
        except Busy:
            response = web.html("login.html", None, 503, next=target, csrf=csrf, error="Busy: try again in a moment.")
            response.headers["retry-after"] = "1"
            return response
        if user is None:
            return web.html("login.html", None, 401, next=target, csrf=csrf, error="Wrong email or password.")
        web.throttle.succeeded(attempt)
        if rehash:  # a hash of an earlier version, or of weaker settings: replaced now the password is known
            stronger = await web.passwords.run(lambda: users.hash_password(password))
            await run_in_threadpool(web.store.write, lambda tx: users.set_password_hash(tx, user.id, stronger))
        now = web.clock.now_ms()
        token = await run_in_threadpool(web.store.write, lambda tx: users.start_session(tx, user, now))
        done = web.redirect(target)
        done.set_cookie(
            COOKIE,
            token,
            max_age=users.SESSION_DAYS * 86400,
            httponly=True,
            samesite="lax",
            secure=web.secure,
            path="/",
        )
        return done

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
