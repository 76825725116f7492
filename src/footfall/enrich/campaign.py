"""URL -> hostname, path, campaign parameters (ref, source, via, utm_*) and ad click ids."""

from __future__ import annotations

import functools
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from footfall.model import CLICK_ID_FIELDS, PARAM_FIELDS

MAX_PARAM = 256


LINK_TOKEN = "ff_t"  # an email-link token (docs/people.md)


class PageUrl(NamedTuple):
    hostname: str
    path: str
    params: dict[str, str]
    click_ids: dict[str, str]
    cross_domain_visitor: str | None
    link_token: str | None = None


def without_link_token(href: str) -> str:
    """`href` without its `ff_t` parameter: the token identifies a person and is never stored."""
    parts = urlsplit(href)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LINK_TOKEN]
    return urlunsplit(parts._replace(query=urlencode(kept)))


@functools.lru_cache(maxsize=16_384)
def parse_url(href: str) -> PageUrl | None:
    """None when `href` is not an absolute http(s) URL. Cached (a site's pages repeat): the result
    is shared, so its dicts are read-only."""
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    params: dict[str, str] = {}
    click_ids: dict[str, str] = {}
    cross_domain = token = None
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        value = value[:MAX_PARAM]
        if key in PARAM_FIELDS:
            params.setdefault(key, value)
        elif key in CLICK_ID_FIELDS:
            click_ids.setdefault(key, value)
        elif key == "_df_vid":
            cross_domain = value
        elif key == LINK_TOKEN:
            token = value
    host = parts.hostname.lower().removeprefix("www.")
    return PageUrl(host, parts.path or "/", params, click_ids, cross_domain, token)
