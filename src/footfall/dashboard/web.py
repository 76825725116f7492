"""What every dashboard page shares (docs/dashboard.md): templates, the session and its site,
forms checked for origin and CSRF token, and the answers for refused, missing and logged-out.

Every page reads through the same query functions as the APIs (analytics, realtime, people,
companies, visitors), so a number on screen is the number the API gives. Forms post
`application/x-www-form-urlencoded` bodies carrying the session's CSRF token; a post without it,
or from another origin, is refused with 403 and changes nothing.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from footfall import __version__, accounts, site_metadata
from footfall.accounts import Site
from footfall.clock import Clock, iso_ms
from footfall.dashboard import users
from footfall.dashboard.throttle import LoginThrottle, PasswordChecks
from footfall.enrich.networks import HostingNetworks
from footfall.ids import LinkSigner
from footfall.net import client_ip
from footfall.outbound import Outbound
from footfall.settings import Settings
from footfall.store.base import Store

COOKIE = "ff_session"
LOGIN_CSRF = "ff_login_csrf"
REFUSED = "This form was not sent from this dashboard (its security token is missing or wrong). Reload the page."
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


def path_of(url: str | None) -> str:
    """A page's path, as the dashboard lists pages (the host goes without saying; the whole URL is
    in the cell's title)."""
    return (urlsplit(url).path or "/") if url else ""


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
    env.filters["path"] = path_of
    env.globals["version"] = __version__
    env.globals["kpi_colors"] = site_metadata.COLORS
    return env


def with_params(params: dict[str, str], **changes: str | None) -> str:
    """The query string of `params` with `changes` (None removes a key)."""
    merged = {**params, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


@dataclass
class Web:
    """The dashboard's shared parts, handed to each group of pages."""

    store: Store
    clock: Clock
    settings: Settings
    hosting: HostingNetworks
    links: LinkSigner
    outbound: Outbound
    env: jinja2.Environment
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    passwords: PasswordChecks = field(default_factory=PasswordChecks)

    def client_ip(self, request: Request) -> str | None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        peer = request.client.host if request.client else None
        return client_ip(peer, headers, self.settings.trusted_proxies, self.settings.proxy_sets_real_ip)

    @property
    def secure(self) -> bool:
        return not self.settings.dashboard_insecure_cookies

    def html(self, name: str, page: Page | None, status: int = 200, **values: Any) -> HTMLResponse:
        body = self.env.get_template(name).render(page=page, **values)
        return HTMLResponse(body, status, headers=SECURITY_HEADERS)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, 303, headers=SECURITY_HEADERS)

    async def session_of(self, request: Request) -> users.Session | None:
        token = request.cookies.get(COOKIE)
        now = self.clock.now_ms()
        return await run_in_threadpool(self.store.read, lambda tx: users.session_of(tx, token, now))

    async def page_for(self, request: Request, site_id: str | None = None) -> Page:
        session = await self.session_of(request)
        if session is None:
            raise PermissionError
        sites = await run_in_threadpool(self.store.read, lambda tx: accounts.list_sites(tx, session.user.account_id))
        page = Page(session, sites)
        if site_id is not None:
            page.site = next((s for s in sites if s.id == site_id), None)
            if page.site is None:
                raise NotFound
        return page

    async def form_of(self, request: Request, page: Page | None, login_token: str | None = None) -> MultiDict:
        """The posted form, once its origin and CSRF token are checked."""
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            raise Forbidden
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise Forbidden
        form = MultiDict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        expected = page.session.csrf if page else login_token
        if not expected or not hmac.compare_digest(form.get("csrf", "").encode(), expected.encode()):
            raise Forbidden
        return form

    def guarded(self, fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(fn)  # FastAPI reads the page's own parameters
        async def run(request: Request, **kw: Any) -> Response:
            try:
                return await fn(request, **kw)
            except PermissionError:
                return self.redirect("/login" + with_params({"next": request.url.path}))
            except Forbidden:
                return self.html("error.html", None, 403, title="Refused", message=REFUSED)
            except NotFound:
                return self.html(
                    "error.html", None, 404, title="Not found", message="There is nothing here in your account."
                )

        return run
