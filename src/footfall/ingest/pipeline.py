"""The ingestion pipeline: parse -> drop steps -> enrich -> (identify + write in the store).

`STEPS` is the ordered list, after Plausible's `Plausible.Ingestion.Event`: each
step is a small named function of one `Candidate`; a `drop_*` step returns the
reason it drops the event, a `put_*` step fills fields and returns None.
Identification and the write run in the store's transaction (ingest/writer.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from footfall.enrich.bots import is_bot
from footfall.enrich.geo import GeoLookup
from footfall.enrich.referrer import classify
from footfall.enrich.user_agent import parse_agent
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
class Candidate:
    event: Event
    site: Site | None
    request: RequestInfo
    geo: GeoLookup = field(repr=False, default=None)  # type: ignore[assignment]


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


def drop_opted_out(c: Candidate) -> str | None:
    assert c.site is not None
    settings = c.site.settings
    if (c.request.gpc and settings.get("respect_gpc")) or (c.request.dnt and settings.get("respect_dnt")):
        return "opted_out"
    return None


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


def put_user_agent(c: Candidate) -> None:
    e = c.event
    (e.browser, e.browser_version, e.os, e.os_version, e.device_type, e.device_vendor, e.device_model) = parse_agent(
        e.user_agent
    )
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
    ) = c.geo.lookup(e.ip)
    return None


def put_network(c: Candidate) -> None:
    c.event.asn, c.event.as_organization, _ = c.geo.network(c.event.ip)
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
    ("drop_opted_out", drop_opted_out),
    ("drop_form_capture_off", drop_form_capture_off),
    ("forget_device", forget_device),
    ("put_request", put_request),
    ("put_user_agent", put_user_agent),
    ("put_geo", put_geo),
    ("put_network", put_network),
    ("put_referrer", put_referrer),
)

DROP_REASONS = ("unknown_site", "hostname_not_allowed", "bot", "opted_out", "form_capture_off")


def run(c: Candidate, steps: tuple[tuple[str, Step], ...] = STEPS) -> str | None:
    """Run the steps over one candidate; the drop reason, or None when it is to be written."""
    for _name, step in steps:
        reason = step(c)
        if reason is not None:
            return reason
    return None
