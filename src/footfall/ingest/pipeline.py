"""The ingestion pipeline: parse -> drop steps -> enrich -> (identify + write in the store).

`STEPS` is the ordered list, after Plausible's `Plausible.Ingestion.Event`: each
step is a small named function of one `Candidate`; a `drop_*` step returns the
reason it drops the event, a `put_*` step fills fields and returns None.
Identification and the write run in the store's transaction (ingest/writer.py).
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from footfall.enrich import automation
from footfall.enrich.bots import is_bot
from footfall.enrich.geo import GeoLookup
from footfall.enrich.networks import HostingNetworks, kind_of_network
from footfall.enrich.referrer import classify
from footfall.enrich.spam import ReferrerSpam
from footfall.enrich.user_agent import parse_agent
from footfall.ingest.pace import Pace
from footfall.model import Event, Site


@dataclass(slots=True)
class RequestInfo:
    """What the HTTP request says about its sender, beyond the body."""

    ip: str | None
    user_agent: str
    gpc: bool = False
    dnt: bool = False

    def with_signals(self, gpc: bool, dnt: bool) -> RequestInfo:
        """The privacy signals a tracker sent in the body (a script cannot set Sec-GPC or DNT)."""
        return RequestInfo(self.ip, self.user_agent, self.gpc or gpc, self.dnt or dnt)


@dataclass(slots=True)
class Context:
    """What the steps consult beyond the event: the geo databases, the hosting networks, the
    referrer-spam list and the pace of each browser (the one step with memory)."""

    geo: GeoLookup
    hosting: HostingNetworks = field(default_factory=HostingNetworks)
    spam: ReferrerSpam = field(default_factory=ReferrerSpam)
    pace: Pace = field(default_factory=Pace)


@dataclass(slots=True)
class Candidate:
    event: Event
    site: Site | None
    request: RequestInfo
    context: Context = field(repr=False, default=None)  # type: ignore[assignment]
    evidence: automation.Evidence | None = None  # the tracker's automation evidence
    known: Any = None  # history: another tool's account of the visitor (ingest/history.py's Known)


Step = Callable[[Candidate], str | None]


def drop_unknown_site(c: Candidate) -> str | None:
    return "unknown_site" if c.site is None else None


def drop_hostname_not_allowed(c: Candidate) -> str | None:
    assert c.site is not None
    host = c.event.hostname
    if host == c.site.domain:
        return None
    for h in (c.site.domain, *c.site.allowed_hostnames):
        if host == h or host.endswith("." + h):
            return None
    return "hostname_not_allowed"


def drop_bot(c: Candidate) -> str | None:
    return "bot" if is_bot(c.request.user_agent) else None


def filters_automated(site: Site) -> bool:
    """Whether the site drops automated traffic (`keep_automated` off, the default): automated
    browsers, script-less traffic from hosting networks and impossible speed. Crawlers that say
    so in their user agent are dropped on every site."""
    return not site.settings.get("keep_automated")


def drop_automated(c: Candidate) -> str | None:
    """The tracker's automation evidence shows a sign of a driven browser (enrich/automation.py)."""
    assert c.site is not None
    e, ua = c.event, c.request.user_agent
    if c.evidence is None:
        return None
    screen = automation.Screen(e.viewport_width, e.viewport_height, e.screen_width, e.screen_height)
    sign = automation.sign(c.evidence, ua, screen, parse_agent(ua).device_type == "desktop")
    if sign is None:
        return None
    e.automation, e.headless = sign, sign in ("headless", "headless_window")
    return "automated" if filters_automated(c.site) else None


def drop_datacenter(c: Candidate) -> str | None:
    """From a hosting network, and the page's script never ran: no automation evidence, no device
    signals, no viewport (the GIF, a scraper posting events, a server)."""
    assert c.site is not None
    e = c.event
    if e.asn is None or not filters_automated(c.site):
        return None
    if c.evidence is not None or e.device_hash is not None or e.viewport_width is not None:
        return None
    return "datacenter" if kind_of_network(e.asn, e.as_organization, c.context.hosting) == "hosting" else None


def drop_referrer_spam(c: Candidate) -> str | None:
    """The referrer is on the referrer-spam list or the site's own `spam_referrers`."""
    assert c.site is not None
    host = c.event.referrer_host
    if host and c.context.spam.is_spam(host, tuple(c.site.settings.get("spam_referrers") or ())):
        return "referrer_spam"
    return None


def drop_too_fast(c: Candidate) -> str | None:
    """A page view that makes its browser faster than a person (ingest/pace.py). Last, so that only
    page views otherwise kept count towards the pace."""
    assert c.site is not None
    e = c.event
    if e.type != "pageview" or not filters_automated(c.site):
        return None
    browser = (e.site_id, e.client_visitor_id) if e.client_visitor_id else (e.site_id, e.ip or "", e.user_agent)
    return "too_fast" if c.context.pace.too_fast(browser, e.ts) else None


def drop_opted_out(c: Candidate) -> str | None:
    assert c.site is not None
    settings = c.site.settings
    if (c.request.gpc and settings.get("respect_gpc")) or (c.request.dnt and settings.get("respect_dnt")):
        return "opted_out"
    return None


@functools.lru_cache(maxsize=256)
def _networks(rules: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for rule in rules:
        try:
            out.append(ipaddress.ip_network(rule.strip(), strict=False))
        except ValueError:
            continue  # checked when saved; a bad rule never drops anything
    return tuple(out)


def drop_excluded_ip(c: Candidate) -> str | None:
    """The site's excluded addresses and networks (`exclude_ips`: the owner's office, monitoring)."""
    assert c.site is not None
    rules = c.site.settings.get("exclude_ips")
    if not rules or not c.request.ip:
        return None
    try:
        ip = ipaddress.ip_address(c.request.ip)
    except ValueError:
        return None
    return "excluded_ip" if any(ip in net for net in _networks(tuple(rules))) else None


def drop_excluded_page(c: Candidate) -> str | None:
    """The site's excluded paths (`exclude_paths`, globs such as `/admin/*`) and hostnames
    (`exclude_hostnames`, such as a staging host)."""
    assert c.site is not None
    settings = c.site.settings
    paths, hosts = settings.get("exclude_paths"), settings.get("exclude_hostnames")
    if hosts and c.event.hostname in hosts:
        return "excluded_hostname"
    if paths and any(fnmatch.fnmatchcase(c.event.path or "/", glob) for glob in paths):
        return "excluded_path"
    return None


def drop_excluded_country(c: Candidate) -> str | None:
    """The site's excluded countries (`exclude_countries`, ISO codes), once geo is known."""
    assert c.site is not None
    codes = c.site.settings.get("exclude_countries")
    return "excluded_country" if codes and c.event.country_code in codes else None


def truncate_ip(c: Candidate) -> None:
    """With `truncate_ips` on, the stored address keeps its network only (IPv4 /24, IPv6 /48): geo
    and the network owner were read from the whole address, which is then forgotten."""
    assert c.site is not None
    if c.site.settings.get("truncate_ips") and c.event.ip:
        c.event.ip = truncated(c.event.ip)
    return None


def truncated(raw: str) -> str | None:
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def drop_form_capture_off(c: Candidate) -> str | None:
    """Captured form fields are kept only on sites that turned form capture on (off by default)."""
    assert c.site is not None
    return "form_capture_off" if c.event.type == "form" and not c.site.settings.get("form_capture") else None


def forget_device(c: Candidate) -> None:
    """A site can turn device signals off, or require consent for them: then they are not stored
    (without consent, even if a tag sent them)."""
    assert c.site is not None
    settings = c.site.settings
    if settings.get("device_signals") is False or (settings.get("consent_required") and not c.event.consented):
        c.event.device_hash = c.event.device = c.event.core_hash = None
    return None


def put_request(c: Candidate) -> None:
    assert c.site is not None
    c.event.site_num = c.site.num
    c.event.user_agent = c.request.user_agent[:512]
    c.event.ip = c.request.ip
    return None


APP_OS = {"ios": "iOS", "android": "Android"}


def put_user_agent(c: Candidate) -> None:
    """Browser, OS and device from the user agent; an app's own account of its OS and model
    (DataFast's SDK's `device`) wins over the user agent it builds."""
    e = c.event
    (e.browser, e.browser_version, e.os, e.os_version, e.device_type, e.device_vendor, e.device_model) = parse_agent(
        e.user_agent
    )
    if e.app_platform in APP_OS:
        e.os = APP_OS[e.app_platform]
        e.os_version = e.app_os_version or e.os_version
        e.device_model = e.app_model or e.device_model
        if (e.app_model or "").startswith("iPad"):  # the SDK writes an iPhone's user agent on iPads too
            e.device_type = "tablet"
        elif e.device_type not in ("mobile", "tablet"):
            e.device_type = "mobile"
    return None


def put_geo(c: Candidate) -> None:
    e = c.event
    (
        e.country_code,
        e.country,
        e.region,
        e.city,
        e.latitude,
        e.longitude,
        e.postal_code,
        e.geo_timezone,
        e.accuracy_radius,
    ) = c.context.geo.lookup(e.ip)
    return None


def put_network(c: Candidate) -> None:
    c.event.asn, c.event.as_organization, _ = c.context.geo.network(c.event.ip)
    return None


def put_referrer(c: Candidate) -> None:
    assert c.site is not None
    e = c.event
    ref = classify(e.referrer, e.params, e.click_ids, (c.site.domain, *c.site.allowed_hostnames))
    e.referrer_host, e.referrer_source, e.channel = ref
    return None


STEPS: tuple[tuple[str, Step], ...] = (
    ("drop_unknown_site", drop_unknown_site),
    ("drop_hostname_not_allowed", drop_hostname_not_allowed),
    ("drop_bot", drop_bot),
    ("drop_automated", drop_automated),
    ("drop_opted_out", drop_opted_out),
    ("drop_excluded_ip", drop_excluded_ip),
    ("drop_excluded_page", drop_excluded_page),
    ("drop_form_capture_off", drop_form_capture_off),
    ("forget_device", forget_device),
    ("put_request", put_request),
    ("put_user_agent", put_user_agent),
    ("put_geo", put_geo),
    ("drop_excluded_country", drop_excluded_country),
    ("put_network", put_network),
    ("drop_datacenter", drop_datacenter),
    ("truncate_ip", truncate_ip),
    ("put_referrer", put_referrer),
    ("drop_referrer_spam", drop_referrer_spam),
    ("drop_too_fast", drop_too_fast),
)


def run(c: Candidate, steps: tuple[tuple[str, Step], ...] = STEPS) -> str | None:
    """Run the steps over one candidate; the drop reason, or None when it is to be written."""
    for _name, step in steps:
        reason = step(c)
        if reason is not None:
            return reason
    return None
