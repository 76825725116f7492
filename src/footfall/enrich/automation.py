"""Automated browsers, from the evidence footfall's tracker sends with every event
(tracker/src/automation.js): a browser driven by Playwright, Puppeteer or Selenium that runs the
page's script.

The tracker reports; this decides. A load is automated on the first of these signs:

- `webdriver`: `navigator.webdriver` is true (every WebDriver/CDP-driven Chromium and Firefox
  sets it, unless the driver hides it);
- `headless`: the client hints' brands name HeadlessChrome;
- `version_mismatch`: the user agent's Chrome version is not the Chromium version the client
  hints give (a driver replaced the user agent, not the hints; browsers never disagree with
  themselves);
- `engine_mismatch`: the user agent claims Firefox or Safari while the browser has Chromium's
  client hints;
- `platform_mismatch`: the user agent's operating system (Windows, macOS, Linux, iOS) is not the
  one `navigator.platform` gives (a Windows user agent on a Linux machine);
- `headless_window`: a desktop browser whose window has no browser controls (its outer size is its
  viewport) and exactly covers a screen without a taskbar or menu bar: what headless Chromium
  reports. A person in full screen on a screen without a taskbar looks the same, which is rare and
  is the price of this sign (docs/bots.md).

An event without evidence (the GIF, a server-side sender, DataFast's own script) gets no verdict
here; the network and speed steps still apply to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CHROME = re.compile(r"(?:Chrome|CriOS|HeadlessChrome)/(\d+)")
_CHROMIUM_BRAND = re.compile(r"(?:^|,)Chromium/(\d+)")
_CLAIMS_OTHER_ENGINE = re.compile(r"Firefox/|Version/[\d.]+ (?:Mobile/\w+ )?Safari/")
SIGNS = ("webdriver", "headless", "version_mismatch", "engine_mismatch", "platform_mismatch", "headless_window")


@dataclass(frozen=True, slots=True)
class Evidence:
    webdriver: bool | None = None
    brands: str | None = None  # "Not:A-Brand/8,Chromium/156": navigator.userAgentData's brands
    platform: str | None = None  # navigator.platform
    window: tuple[int, ...] = ()  # outerWidth, outerHeight, screen.availHeight


@dataclass(frozen=True, slots=True)
class Screen:
    """What the event itself says of the window: its viewport and screen size."""

    viewport_width: int | None
    viewport_height: int | None
    screen_width: int | None
    screen_height: int | None


def ua_os(ua: str) -> str | None:
    if "iPhone" in ua or "iPad" in ua or "iPod" in ua:
        return "ios"
    if "Windows" in ua:
        return "windows"
    if "Macintosh" in ua or "Mac OS X" in ua:
        return "mac"
    if "Android" in ua or "Linux" in ua or "X11" in ua or "CrOS" in ua:
        return "linux"
    return None


def platform_os(platform: str) -> str | None:
    if platform.startswith("Win"):
        return "windows"
    if platform.startswith("Mac"):
        return "mac"
    if platform.startswith(("Linux", "X11", "Android")):
        return "linux"
    if platform.startswith(("iPhone", "iPad", "iPod")):
        return "ios"
    return None


def sign(evidence: Evidence | None, ua: str, screen: Screen, desktop: bool) -> str | None:
    """The first sign of automation (one of `SIGNS`), or None."""
    if evidence is None:
        return None
    if evidence.webdriver:
        return "webdriver"
    brands = evidence.brands or ""
    if "HeadlessChrome" in brands:
        return "headless"
    if brands and (hinted := _CHROMIUM_BRAND.search(brands)):
        claimed = _CHROME.search(ua)
        if claimed is None and _CLAIMS_OTHER_ENGINE.search(ua):
            return "engine_mismatch"
        if claimed is not None and claimed.group(1) != hinted.group(1):
            return "version_mismatch"
    if evidence.platform:
        said, runs = ua_os(ua), platform_os(evidence.platform)
        if said and runs and said != runs:
            return "platform_mismatch"
    if desktop and _headless_window(evidence.window, screen):
        return "headless_window"
    return None


def _headless_window(window: tuple[int, ...], s: Screen) -> bool:
    if len(window) != 3 or None in (s.viewport_width, s.viewport_height, s.screen_width, s.screen_height):
        return False
    outer_width, outer_height, avail_height = window
    if outer_width <= 0 or outer_height <= 0:
        return False
    no_controls = (outer_width, outer_height) == (s.viewport_width, s.viewport_height)
    fills_screen = (outer_width, outer_height) == (s.screen_width, s.screen_height) == (s.screen_width, avail_height)
    return no_controls and fills_screen
