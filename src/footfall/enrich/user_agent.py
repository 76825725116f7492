"""User agent -> browser, OS and device: ua-parser (uap-core's rules, in Rust), footfall's names
for the browsers it hides behind an engine's, and the device-type rule of enrich/device_type.py."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from ua_parser import parse

from footfall.enrich.device_type import device_type

# Browsers ua-parser names by their engine or not at all (a Chrome WebView, "Safari", "HbbTV"),
# named by their own token: (pattern with the version as its first group, name). First match wins;
# each has a test naming a user agent it fixes (tests/enrich/test_user_agent.py).
NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"YaBrowser/(\d[\d.]*) \(lite\)", "Yandex Browser Lite"),
        (r"YaBrowser/(\d[\d.]*)", "Yandex Browser"),
        (r"Ya(?:ndex)?SearchBrowser/(\d[\d.]*)", "Yandex Browser"),  # the Yandex app's browser
        (r"\bQuark/(\d[\d.]*)", "Quark"),
        (r"LG Browser/(\d[\d.]*)", "LG Browser"),
        (r"MZBrowser/(\d[\d.]*)", "Meizu Browser"),
        (r"^TV Bro/(\d[\d.]*)", "TV Bro"),
        (r"SogouMobileBrowser/(\d[\d.]*)", "Sogou Mobile Browser"),
        (r"(?:SogouExplorer/|SE \d\.X MetaSr )(\d[\d.]*)", "Sogou Explorer"),
        (r"\bOdin/(\d[\d.]*)", "Odin"),
        (r"Tbrowser/(\d[\d.]*)", "T-Browser"),
        (r"Hawk/QuickBrowser/(\d[\d.]*)", "Hawk Quick Browser"),
        (r"OPR/(\d[\d.]*) OMI/", "Opera Devices"),  # Opera's TV browser (Vewd)
    )
)
_ANY_NAME = re.compile("|".join(p.pattern.replace("(\\d", "(?:\\d") for p, _ in NAMES))
_HBBTV = re.compile(r"\s*HbbTV/[\d.]+(?: \([^)]*\))?")


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


def browser_name(ua: str, family: str | None, major: str | None, minor: str | None, patch: str | None
                 ) -> tuple[str | None, str | None]:  # fmt: skip
    """(name, version): the browser's own token where `NAMES` knows it, else ua-parser's; behind
    the HbbTV standard's token (ua-parser's name for any TV) the browser that carries it."""
    if _ANY_NAME.search(ua):
        for pattern, name in NAMES:
            found = pattern.search(ua)
            if found:
                return name, found.group(1)
    if family == "HbbTV":
        inner = parse(_HBBTV.sub("", ua)).user_agent
        if inner is not None and _known(inner.family) and inner.family != "HbbTV":
            return inner.family, _version(inner.major, inner.minor, inner.patch)
    return _known(family), _version(major, minor, patch)


@functools.lru_cache(maxsize=8192)
def parse_agent(ua: str) -> Agent:
    if not ua:
        return Agent(None, None, None, None, None, None, None)
    r = parse(ua)
    browser = r.user_agent
    os = r.os
    dev = r.device
    os_name = _known(os.family) if os else None
    name, version = browser_name(ua, *((browser.family, browser.major, browser.minor, browser.patch) if browser
                                        else (None, None, None, None)))  # fmt: skip
    return Agent(
        browser=name,
        browser_version=version,
        os=os_name,
        os_version=_version(os.major, os.minor, os.patch) if os else None,
        device_type=device_type(ua, os_name),
        device_vendor=_known(dev.brand) if dev else None,
        device_model=_known(dev.model) if dev else None,
    )
