"""Wire formats -> `Event`. The DataFast event body is footfall's own collect format.

Unknown keys are ignored (clients newer than the server keep working); known
keys with the wrong type or an impossible value are a `PayloadError` naming the
field, which the endpoint answers with 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from footfall.bounds import OutOfBounds, check_json
from footfall.enrich.automation import Evidence
from footfall.enrich.campaign import parse_url, without_link_token
from footfall.model import CLICK_ID_FIELDS, EVENT_TYPES, Event

MAX_URL = 4096
MAX_DEVICE = 2048  # bytes of device components, encoded
_HEX8 = re.compile(r"^[0-9a-f]{8}$")
_encode = msgspec.json.Encoder()
MAX_TEXT = 512
PAYMENT_KEYS = ("email", "stripe_session_id", "lemonsqueezy_order_id", "polar_checkout_id", "paddle_transaction_id")
GOAL_NAME = re.compile(r"^[a-z0-9_:-]{1,64}$")


class PayloadError(ValueError):
    """A body that cannot be an event; the message names the field."""


def _bounded(value: Any, where: str) -> None:
    """A client's free-form value that a store can keep (footfall.bounds), else a PayloadError."""
    try:
        check_json(value, where)
    except OutOfBounds as exc:
        raise PayloadError(str(exc)) from None


class Size(msgspec.Struct):
    width: int | None = None
    height: int | None = None


class DeviceSignals(msgspec.Struct):
    """footfall's tracker: browser components (tracker/src/device.js) with their signature."""

    h: str  # signature of the components, 8 hex characters
    s: str | None = None  # signature of the components but canvas and audio (noisy in some browsers)
    c: dict[str, Any] = {}  # components, each a short value or a hash
    q: int | None = None  # storage quota in MB (small in private windows)
    m: int | None = None  # JavaScript heap limit in MB (Chromium)
    a: dict[str, Any] = {}  # 0.1.0's trackers: automation signals, now sent as `automation`


class WireAutomation(msgspec.Struct):
    """footfall's tracker: automation evidence (tracker/src/automation.js, enrich/automation.py)."""

    wd: bool | None = None  # navigator.webdriver
    b: str | None = None  # navigator.userAgentData's brands, "brand/version,..."
    p: str | None = None  # navigator.platform
    w: list[int] | None = None  # outerWidth, outerHeight, screen.availHeight


class Known(msgspec.Struct, forbid_unknown_fields=True):
    """Another tool's account of the visitor (Umami's export): used where the event has no user
    agent or IP address to read them from."""

    browser: str | None = None
    os: str | None = None
    deviceType: str | None = None  # noqa: N815 - the wire's camelCase
    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None
    city: str | None = None


class WireEvent(msgspec.Struct, omit_defaults=True):
    """DataFast's `BaseEventPayload` (official npm SDK), plus `title`."""

    websiteId: str
    href: str = ""
    type: str = "pageview"
    domain: str | None = None
    visitorId: str | None = None
    sessionId: str | None = None
    visitorFirstSeenAt: str | None = None
    visitorSessionNumber: int | None = None
    referrer: str | None = None
    title: str | None = None
    viewport: Size | None = None
    language: str | None = None
    timezone: str | None = None
    screenWidth: int | None = None
    screenHeight: int | None = None
    cookieless: bool | None = None
    adClickIds: dict[str, Any] | None = None
    extraData: dict[str, Any] | None = None
    # footfall's tracker: the browser's Global Privacy Control / Do Not Track, which a script
    # cannot send as headers; the site's settings decide whether they drop the event.
    gpc: bool | None = None
    dnt: bool | None = None
    # DataFast's SDK: the app's {platform, osVersion, model}; 0.1.0's tracker sent its signals here
    device: dict[str, Any] | None = None
    ffSignals: DeviceSignals | None = None  # footfall's tracker: device signals (tracker/src/device.js)
    ffAutomation: WireAutomation | None = None  # footfall's tracker: automation evidence
    consent: bool | None = None  # the visitor consented to device signals (sites that ask for it)
    linkToken: str | None = None  # an email link's ff_t, which the tracker took off the address bar
    # history (docs/import.md): honoured only from a key with `events:import` and from `footfall import`
    timestamp: str | int | None = None  # ISO 8601, or Unix milliseconds
    ip: str | None = None  # the visitor's address (the sender's request is a server's)
    userAgent: str | None = None  # the visitor's browser
    ffKnown: Known | None = None  # what another tool recorded where footfall has no user agent or IP


class WireBatch(msgspec.Struct):
    events: list[WireEvent]


_single = msgspec.json.Decoder(WireEvent)
_list = msgspec.json.Decoder(list[WireEvent])
_batch = msgspec.json.Decoder(WireBatch)


def _explain(exc: msgspec.ValidationError | msgspec.DecodeError) -> str:
    text = str(exc)
    match = re.search(r" - at `\$(?:\.events)?(?:\[(\d+)\])?\.?([^`]*)`", text)
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return f"body is not valid JSON ({text})"
    if match:
        where = ".".join(p for p in (f"events[{match.group(1)}]" if match.group(1) else "", match.group(2)) if p)
        return f"{where or 'body'}: {text.split(' - at ')[0]}"
    if "missing required field" in text:
        return text.replace("Object missing required field", "missing required field")
    return text


TOO_DEEP = "the body is nested too deeply"


def decode_one(body: bytes) -> WireEvent:
    try:
        return _single.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise PayloadError(_explain(exc)) from None
    except RecursionError:
        raise PayloadError(TOO_DEEP) from None


def decode_batch(body: bytes) -> list[WireEvent]:
    """A JSON array of events, or `{"events": [...]}`."""
    try:
        return _list.decode(body) if body.lstrip()[:1] == b"[" else _batch.decode(body).events
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise PayloadError(_explain(exc)) from None
    except RecursionError:
        raise PayloadError(TOO_DEEP) from None


def from_query(query: Mapping[str, str], referer: str | None) -> WireEvent:
    """The no-script GIF: `?websiteId=...` with the page URL from the query or the Referer header."""
    if not query.get("websiteId"):
        raise PayloadError("missing required field `websiteId`")
    return WireEvent(
        websiteId=query["websiteId"],
        href=query.get("href") or referer or "",
        type=query.get("type", "pageview"),
        referrer=query.get("referrer") or None,
        visitorId=query.get("visitorId") or None,
        title=query.get("title") or None,
    )


def _size(value: int | None, field: str) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= 100_000:
        raise PayloadError(f"{field}: must be between 0 and 100000")
    return value


def _text(value: str | None, field: str, limit: int = MAX_TEXT) -> str | None:
    if value is not None:
        if len(value) > limit:
            raise PayloadError(f"{field}: longer than {limit} characters")
        if "\x00" in value:
            raise PayloadError(f"{field}: contains a NUL character")
    return value or None


def _goal(extra: dict[str, Any]) -> str:
    name = extra.get("eventName")
    if not isinstance(name, str) or not GOAL_NAME.match(name):
        raise PayloadError(
            "extraData.eventName: required for custom events; lowercase a-z, 0-9, _, -, :, at most 64 characters"
        )
    if name == "identify":
        raise PayloadError("extraData.eventName: 'identify' is reserved")
    return name


def to_event(wire: WireEvent, ts: int, prefix: str = "") -> Event:
    """Validate one wire event and build the canonical Event (not yet enriched)."""
    where = prefix
    if not _text(wire.websiteId, f"{where}websiteId", 64):
        raise PayloadError(f"{where}websiteId: required, at most 64 characters")
    if wire.type not in EVENT_TYPES:
        raise PayloadError(f"{where}type: must be one of {', '.join(EVENT_TYPES)}")
    _text(wire.href, f"{where}href", MAX_URL)
    url = parse_url(wire.href)
    if url is None:
        raise PayloadError(f"{where}href: must be an absolute http(s) URL")
    extra = dict(wire.extraData or {})
    if extra:
        _bounded(extra, f"{where}extraData")
    if wire.adClickIds:
        _bounded(wire.adClickIds, f"{where}adClickIds")
    href = without_link_token(wire.href) if url.link_token else wire.href
    name = _goal(extra) if wire.type == "custom" else None
    if wire.type == "form" and not all(isinstance(v, str) and len(v) <= 255 for v in extra.values()):
        raise PayloadError(f"{where}extraData: a form's captured fields are strings of at most 255 characters")
    if wire.type == "identify" and not (isinstance(extra.get("user_id"), str) and extra["user_id"].strip()):
        raise PayloadError(f"{where}extraData.user_id: required for identify events (a non-empty string)")
    if wire.type == "payment" and not any(isinstance(extra.get(k), str) and extra[k] for k in PAYMENT_KEYS):
        raise PayloadError(f"{where}extraData: a payment needs one of {', '.join(PAYMENT_KEYS)}")
    click_ids = {k: str(v)[:256] for k, v in (wire.adClickIds or {}).items() if k in CLICK_ID_FIELDS and v}
    viewport = wire.viewport or Size()
    signals, app = _signals_and_app(wire, where)
    device_hash, device = _device(signals, f"{where}{'ffSignals' if wire.ffSignals else 'device'}.")
    if wire.type == "identification":
        _identification(extra, where)
    return Event(
        site_id=wire.websiteId.removeprefix(POSTMETRIC_PREFIX),  # PostMetric's tag names its site `pmid_<id>`
        type=wire.type,
        ts=ts,
        name=name,
        href=href,
        hostname=url.hostname,
        path=url.path,
        title=_text(wire.title, f"{where}title"),
        referrer=_text(wire.referrer, f"{where}referrer", MAX_URL),
        params=url.params,
        click_ids={**url.click_ids, **click_ids},
        client_visitor_id=_text(wire.visitorId, f"{where}visitorId", 128),
        client_session_id=_text(wire.sessionId, f"{where}sessionId", 128),
        cross_domain_visitor_id=url.cross_domain_visitor,
        link_token=_text(wire.linkToken, f"{where}linkToken", 64) or url.link_token,
        viewport_width=_size(viewport.width, f"{where}viewport.width"),
        viewport_height=_size(viewport.height, f"{where}viewport.height"),
        screen_width=_size(wire.screenWidth, f"{where}screenWidth"),
        screen_height=_size(wire.screenHeight, f"{where}screenHeight"),
        language=_text(wire.language, f"{where}language", 64),
        timezone=_text(wire.timezone, f"{where}timezone", 64),
        extra=extra,
        device_hash=device_hash,
        core_hash=signals.s if signals and device_hash else None,
        device=device,
        consented=bool(wire.consent),
        quota_mb=signals.q if signals else None,
        heap_mb=signals.m if signals else None,
        webdriver=wire.ffAutomation.wd if wire.ffAutomation else None,
        app_platform=app[0],
        app_os_version=app[1],
        app_model=app[2],
    )


def evidence(wire: WireEvent, where: str = "") -> Evidence | None:
    """The tracker's automation evidence, checked; None when it sent none."""
    a = wire.ffAutomation
    if a is None:
        return None
    if a.w is not None and (len(a.w) > 3 or not all(0 <= n <= 100_000 for n in a.w)):
        raise PayloadError(f"{where}ffAutomation.w: at most 3 sizes between 0 and 100000")
    return Evidence(
        webdriver=a.wd,
        brands=_text(a.b, f"{where}ffAutomation.b", 256),
        platform=_text(a.p, f"{where}ffAutomation.p", 64),
        window=tuple(a.w or ()),
    )


APP_PLATFORMS = ("ios", "android", "web")
POSTMETRIC_PREFIX = "pmid_"


def _signals_and_app(wire: WireEvent, where: str) -> tuple[DeviceSignals | None, tuple[str | None, ...]]:
    """footfall's device signals (`ffSignals`, or 0.1.0's tracker's `device`), and the app DataFast's
    SDK describes in `device` ({platform, osVersion, model}): (signals, (platform, OS version, model))."""
    raw = wire.device
    if raw is None:
        return wire.ffSignals, (None, None, None)
    if "h" in raw:  # 0.1.0's tracker, cached in a browser since the upgrade
        try:
            return msgspec.convert(raw, DeviceSignals), (None, None, None)
        except msgspec.ValidationError as exc:
            raise PayloadError(f"{where}device: {str(exc).split(' - at ')[0]}") from None
    platform = raw.get("platform")
    texts: list[str | None] = []
    for name in ("platform", "osVersion", "model"):
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise PayloadError(f"{where}device.{name}: a string")
        if value is not None and "\x00" in value:
            raise PayloadError(f"{where}device.{name}: contains a NUL character")
        texts.append(value)
    if platform not in ("ios", "android"):
        # the web build writes the whole user agent as its osVersion and "Browser" as its model: the
        # user agent itself says more; an unknown platform says nothing
        return wire.ffSignals, (platform if platform in APP_PLATFORMS else None, None, None)
    version, model = (texts[1] or "")[:32] or None, (texts[2] or "")[:64] or None
    return wire.ffSignals, (platform, version, None if model == "Unknown" else model)


def _identification(extra: dict[str, Any], where: str) -> None:
    """footfall('device', {linkedId, tag}): Fingerprint's linkedId (a string) and tag (an object)."""
    linked = extra.get("linkedId")
    if linked is not None and (not isinstance(linked, str) or len(linked) > 256):
        raise PayloadError(f"{where}extraData.linkedId: a string of at most 256 characters")
    tag = extra.get("tag")
    if tag is not None and (not isinstance(tag, dict) or len(_encode.encode(tag)) > 16_384):
        raise PayloadError(f"{where}extraData.tag: an object of at most 16 KB")


def _device(signals: DeviceSignals | None, where: str) -> tuple[str | None, str | None]:
    """(signature, components as compact JSON text), validated; (None, None) when not sent.
    `where` ends with the field's name and a dot: "events[2].ffSignals."."""
    if signals is None:
        return None, None
    _bounded([signals.c, signals.a, signals.q, signals.m], where.rstrip("."))
    if not _HEX8.match(signals.h):
        raise PayloadError(f"{where}h: 8 lowercase hex characters")
    if signals.s is not None and not _HEX8.match(signals.s):
        raise PayloadError(f"{where}s: 8 lowercase hex characters")
    text = _encode.encode({"c": signals.c, "q": signals.q, "m": signals.m, "a": signals.a}).decode()
    if len(text) > MAX_DEVICE:
        raise PayloadError(f"{where.rstrip('.')}: components longer than {MAX_DEVICE} bytes")
    return signals.h, text
