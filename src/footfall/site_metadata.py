"""A site's display settings, as DataFast's `GET /api/v1/analytics/metadata` shows them: `name`,
`logo`, `kpi`, `kpiColorScheme` and `currency` (../shared/specs/datafast.md 1.6; docs/api.md).

They are site settings like the others (`footfall sites set`, the dashboard's settings page):
`name` (the domain until set), `logo` (an http(s) URL of at most 250 characters, or none), `kpi`
(the goal the owner follows, or none), `kpi_color_scheme` (one of DataFast's colours; footfall's
default is DataFast's orange) and `currency` (ISO 4217; until set, the currency most of the site's
payments were in, else USD).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from footfall.model import Site

FIELDS = ("domain", "timezone", "name", "logo", "kpiColorScheme", "kpi", "currency")
COLORS = ("red", "orange", "yellow", "green", "purple", "pink", "gray", "blue", "teal", "indigo")
DEFAULT_COLOR = "orange"
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
GOAL = re.compile(r"^[a-z0-9_:-]{1,64}$")


class InvalidMetadata(ValueError):
    pass


def changes(given: dict[str, str | None]) -> dict[str, Any]:
    """Checked settings from text (None: unchanged, "": cleared)."""
    out: dict[str, Any] = {}
    name = given.get("name")
    if name is not None:
        if len(name.strip()) > 100:
            raise InvalidMetadata("a site's name has at most 100 characters")
        out["name"] = name.strip() or None
    logo = given.get("logo")
    if logo is not None:
        logo = logo.strip()
        if logo and (not logo.startswith(("https://", "http://")) or len(logo) > 250 or " " in logo):
            raise InvalidMetadata("the logo is an http(s) URL of at most 250 characters")
        out["logo"] = logo or None
    kpi = given.get("kpi")
    if kpi is not None:
        kpi = kpi.strip().lower()
        if kpi and not GOAL.match(kpi):
            raise InvalidMetadata("the KPI is a goal name: lowercase a-z, 0-9, _, -, :, at most 64 characters")
        out["kpi"] = kpi or None
    color = given.get("kpi_color_scheme")
    if color is not None:
        color = color.strip().lower()
        if color and color not in COLORS:
            raise InvalidMetadata(f"the KPI colour is one of {', '.join(COLORS)}")
        out["kpi_color_scheme"] = color or None
    currency = given.get("currency")
    if currency is not None:
        currency = currency.strip().upper()
        if currency and not CURRENCY.match(currency):
            raise InvalidMetadata("the currency is an ISO 4217 code such as USD or EUR")
        out["currency"] = currency or None
    return out


def metadata(site: Site, payments_currency: str | None, fields: Sequence[str], named: bool) -> dict[str, Any]:
    """DataFast's metadata row: the requested fields; `logo` (optional in DataFast's) only when set,
    or null when asked for by name (`named`: the caller listed `fields`)."""
    s = site.settings
    values: dict[str, Any] = {
        "domain": site.domain,
        "timezone": site.timezone,
        "name": s.get("name") or site.domain,
        "logo": s.get("logo"),
        "kpiColorScheme": s.get("kpi_color_scheme") or DEFAULT_COLOR,
        "kpi": s.get("kpi"),
        "currency": s.get("currency") or payments_currency or "USD",
    }
    return {f: values[f] for f in fields if f != "logo" or values["logo"] is not None or named}
