"""URL -> hostname, path, campaign parameters (ref, source, via, utm_*) and ad click ids."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

from footfall.model import CLICK_ID_FIELDS, PARAM_FIELDS

MAX_PARAM = 256


class PageUrl(NamedTuple):
    hostname: str
    path: str
    params: dict[str, str]
    click_ids: dict[str, str]
    cross_domain_visitor: str | None


def parse_url(href: str) -> PageUrl | None:
    """None when `href` is not an absolute http(s) URL."""
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    params: dict[str, str] = {}
    click_ids: dict[str, str] = {}
    cross_domain = None
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        value = value[:MAX_PARAM]
        if key in PARAM_FIELDS:
            params.setdefault(key, value)
        elif key in CLICK_ID_FIELDS:
            click_ids.setdefault(key, value)
        elif key == "_df_vid":
            cross_domain = value
    return PageUrl(parts.hostname.lower().removeprefix("www."), parts.path or "/", params, click_ids, cross_domain)
