"""User agent -> browser, OS and device, with ua-parser (uap-core rules) and a cache."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from ua_parser import parse

_TABLET = re.compile(r"iPad|Tablet|PlayBook|Silk|Kindle|Nexus (7|9|10)\b|SM-T\d|Tab\b", re.IGNORECASE)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Android.+Mobile|Windows Phone|BlackBerry|Opera Mini|IEMobile", re.IGNORECASE)
_TV = re.compile(r"SmartTV|SMART-TV|Smart TV|HbbTV|AppleTV|GoogleTV|CrKey|Roku|AFT[A-Z]", re.IGNORECASE)
_CONSOLE = re.compile(r"PlayStation|Xbox|Nintendo", re.IGNORECASE)
_DESKTOP_OS = {
    "Windows",
    "Mac OS X",
    "macOS",
    "Linux",
    "Ubuntu",
    "Fedora",
    "Chrome OS",
    "ChromeOS",
    "FreeBSD",
    "Debian",
}


class Agent(NamedTuple):
    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None
    device_type: str | None
    device_vendor: str | None
    device_model: str | None


def _version(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return ".".join(kept) if kept else None


def _known(value: str | None) -> str | None:
    return None if value in (None, "", "Other", "Generic", "Generic Smartphone") else value


def device_type(ua: str, os_name: str | None) -> str | None:
    """desktop | mobile | tablet | tv | console, by a stated rule; None when nothing says which."""
    if _TV.search(ua):
        return "tv"
    if _CONSOLE.search(ua):
        return "console"
    if _TABLET.search(ua) or (os_name == "Android" and "Mobile" not in ua):
        return "tablet"
    if _MOBILE.search(ua) or os_name in {"iOS", "Android"}:
        return "mobile"
    if os_name in _DESKTOP_OS:
        return "desktop"
    return None


@functools.lru_cache(maxsize=8192)
def parse_agent(ua: str) -> Agent:
    if not ua:
        return Agent(None, None, None, None, None, None, None)
    r = parse(ua)
    browser = r.user_agent
    os = r.os
    dev = r.device
    os_name = _known(os.family) if os else None
    return Agent(
        browser=_known(browser.family) if browser else None,
        browser_version=_version(browser.major, browser.minor, browser.patch) if browser else None,
        os=os_name,
        os_version=_version(os.major, os.minor, os.patch) if os else None,
        device_type=device_type(ua, os_name),
        device_vendor=_known(dev.brand) if dev else None,
        device_model=_known(dev.model) if dev else None,
    )
