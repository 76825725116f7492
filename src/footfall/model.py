"""The canonical internal records. Every wire format becomes an `Event`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

EVENT_TYPES = ("pageview", "custom", "identify", "payment", "external_link", "identification", "form")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
PARAM_FIELDS = ("ref", "source", "via", *UTM_FIELDS)
CLICK_ID_FIELDS = ("fbclid", "gclid", "gclsrc", "wbraid", "gbraid", "li_fat_id", "msclkid", "ttclid", "twclid")


@dataclass(slots=True)
class Site:
    id: str
    num: int
    account_id: str
    domain: str
    created_at: int
    allowed_hostnames: tuple[str, ...] = ()
    timezone: str = "UTC"
    settings: dict[str, Any] = field(default_factory=dict)


class Event(msgspec.Struct, array_like=True):
    """One event as it moves through the pipeline: parsed, enriched, identified.

    A msgspec Struct, encoded as an array: cheaper to build than a dataclass, and a
    fraction of the bytes on the way to the writer process (no field names).
    """

    site_id: str
    type: str
    ts: int  # ms since the epoch, server time of receipt
    site_num: int = 0
    request_id: str = ""
    name: str | None = None  # goal name for custom events
    href: str = ""
    hostname: str = ""
    path: str = ""
    title: str | None = None
    referrer: str | None = None
    referrer_host: str | None = None
    referrer_source: str | None = None
    channel: str | None = None
    params: dict[str, str] = {}  # ref, source, via, utm_*
    click_ids: dict[str, str] = {}
    client_visitor_id: str | None = None
    client_session_id: str | None = None
    cross_domain_visitor_id: str | None = None  # _df_vid from the landing URL
    link_token: str | None = None  # ff_t: an email-link token naming a person
    viewport_width: int | None = None
    viewport_height: int | None = None
    screen_width: int | None = None
    screen_height: int | None = None
    language: str | None = None
    timezone: str | None = None
    user_agent: str = ""
    ip: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    device_type: str | None = None
    device_vendor: str | None = None
    device_model: str | None = None
    country_code: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    postal_code: str | None = None
    geo_timezone: str | None = None
    accuracy_radius: int | None = None
    asn: int | None = None  # the network's autonomous system, and who owns it
    as_organization: str | None = None
    device_hash: str | None = None  # the tracker's device signals: signature and components (JSON text)
    device: str | None = None
    core_hash: str | None = None  # the signature without canvas and audio
    consented: bool = False  # the visitor gave consent for device signals
    quota_mb: int | None = None  # from the device signals: storage quota, heap limit
    heap_mb: int | None = None
    webdriver: bool | None = None  # from the automation evidence: navigator.webdriver
    headless: bool | None = None  # the evidence's sign was headless Chrome (enrich/automation.py)
    automation: str | None = None  # the evidence's sign of automation, on sites that keep automated traffic
    app_platform: str | None = None  # DataFast's SDK: the app's platform (ios, android, web), OS version
    app_os_version: str | None = None  # and device model, preferred over the user agent's
    app_model: str | None = None
    extra: dict[str, Any] = {}
    # filled by identification
    visitor_id: str = ""  # the visitor this browser counts as
    browser_id: str = ""  # the signed id the browser keeps: visitor_id, or its alias (docs/identity.md)
    confidence: float = 1.0
    session_id: str = ""
    visitor_num: int = 0
    session_num: int = 0
    new_visitor: bool = False
    new_session: bool = False

    @property
    def campaign(self) -> tuple[str | None, str | None, str | None]:
        p = self.params
        return (p.get("utm_source"), p.get("utm_medium"), p.get("utm_campaign"))
