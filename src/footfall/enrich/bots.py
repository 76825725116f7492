"""Bot user agents: two maintained lists, read through a normalisation, with a thin overlay.

The lists (pinned in pyproject.toml, measured by bench/bots.py):

- isbot's patterns (PyPI `is-bot`, the Python port of npm `isbot`): broad rules that catch
  scripts, libraries and unknown crawlers by their shape (`^\\w+/[\\d.]+$`, `(?<!lib)http`...).
- crawler-user-agents (PyPI): one pattern per named crawler, monitor and AI fetcher.

A user agent is a bot when either list names it, after two corrections where the lists are
measurably wrong on real browsers (each with a test naming the user agent it fixes, in
tests/enrich/test_bots.py):

1. The platform segment of an Android or Windows Phone user agent is reduced to the tokens a
   browser writes there (OS and version, language, `wv`, `Mobile`...) before matching: the device
   model and build id are free text chosen by manufacturers, and the lists' patterns hit them (an
   HTC "Butterfly", Android 15's build `AP3A.240617.008`, both crawler names in
   crawler-user-agents).
2. Handsets and TV sets that write their user agent in a format of their own (feature phones'
   MIDP/CLDC and WAP browsers, UC Browser's `dv(...)`, smart TVs' Web0S, HbbTV, OMI...) are
   matched against crawler-user-agents' named crawlers only: isbot's shape rules take their
   formats for scripts.

and `OVERLAY` drops or narrows the few patterns that name a real browser.
"""

from __future__ import annotations

import functools
import re

from crawleruseragents import CRAWLER_USER_AGENTS_DATA
from is_bot import Bots
from ua_parser import parse

# pattern of a list -> its replacement (None: left out), each for a real browser it hits
OVERLAY: dict[str, str | None] = {  # crawler-user-agents
    "Sogou": "Sogou(?!MSE|MobileBrowser|Explorer|Search)",  # Sogou's own browsers; its spiders say "spider"
    "Fluid": None,  # Fluid, a macOS browser for single sites
    "008\\/": None,  # any product version ending in 008/, such as DESAY's car head units
}
SHAPES_OVERLAY: dict[str, str | None] = {  # isbot (matched without case)
    "sogou": "sogou(?!mse|mobilebrowser|explorer|search)",
}

_PLATFORM = re.compile(r"\((?:Linux|Windows Phone|compatible)[^()]*\)")
_KEEP = re.compile(
    r"^(?:Linux|U|wv|arm(?:_64)?|aarch64|x86_64|Android(?: [\d.]+)?|[a-z]{2,3}(?:[-_][a-zA-Z]{2,4})?|Mobile|Tablet|K|"
    r"compatible|MSIE [\d.]+|Windows Phone(?: OS)? [\d.]+|Trident/[\d.]+|IEMobile/[\d.]+|ARM|Touch|"
    r"(?!Build/)[A-Za-z][\w.-]*/\d[\d.]*)$"  # a product and its version, such as a crawler's name
)
# formats of their own: only named crawlers count for these
_OWN_FORMAT = re.compile(
    r"MAUI|MIDP-|CLDC-|WAP[ _-]?Browser|\bMRE/|NetFront|Obigo|Series ?(?:40|60)|Profile/|UCBrowser|UCWEB|Opera Mini|"
    r"\bBREW\b|^dv\(|^(?:iPhone|iPad)[\w ]*$|Web0S|SmartTV|SMART-TV|HbbTV|GoogleTV|\bOMI/|NETTV|Tbrowser|CE-HTML|"
    r"smarttv_AFT|Opera/9\.80,",
    re.IGNORECASE,
)


def _platform(match: re.Match[str]) -> str:
    items = [item.strip() for item in match.group(0)[1:-1].split(";")]
    # a "(compatible; ...)" segment is a phone's only with Windows Phone in it: bots write that form
    phone = "Windows Phone" if items[0] == "compatible" else ("Android", "Windows Phone")
    if not any(item.startswith(phone) for item in items):
        return match.group(0)
    return "(" + "; ".join(item for item in items if _KEEP.match(item)) + ")"


def normalized(ua: str) -> str:
    """The user agent with the device model and build of its platform segment left out."""
    return _PLATFORM.sub(_platform, ua)


def _named_patterns() -> list[re.Pattern[str]]:
    patterns = []
    for entry in CRAWLER_USER_AGENTS_DATA:
        pattern = OVERLAY.get(entry["pattern"], entry["pattern"])
        if pattern is not None:
            patterns.append(pattern)
    # in chunks, as crawler-user-agents matches them: one alternation of 600 patterns is slower
    return [re.compile("|".join(patterns[i : i + 25])) for i in range(0, len(patterns), 25)]


_NAMED = _named_patterns()


def _shapes() -> Bots:
    bots = Bots()
    bots.exclude(SHAPES_OVERLAY)
    bots.extend(p for p in SHAPES_OVERLAY.values() if p is not None)
    return bots


_SHAPES = _shapes()


def named_crawler(ua: str) -> bool:
    return any(p.search(ua) for p in _NAMED)


# words of browsers' user agents and generic ones: no bot's name
_COMMON = frozenset(
    (
        "mozilla",
        "applewebkit",
        "khtml",
        "gecko",
        "chrome",
        "safari",
        "version",
        "mobile",
        "compatible",
        "like",
        "windows",
        "linux",
        "macintosh",
        "x11",
        "u",
        "http",
        "https",
        "www",
        "com",
        "bot",
        "bots",
        "spider",
        "crawler",
        "crawl",
        "robot",
    )
)
_PRODUCT = re.compile(r"([A-Za-z][\w.+-]*[A-Za-z0-9])(?=/\d|\s|;|\)|$)")


def name(ua: str) -> str:
    """What to call a bot in the filtered-traffic view: the longest text a named crawler's pattern
    matched ("Googlebot", "Google Favicon"), else the crawler ua-parser names, else its first
    product token that is not a browser's ("Ezooms", "python-requests", "curl")."""
    text = normalized(ua)
    matched = [m.group(0).strip(" /;+()") for p in _NAMED if (m := p.search(text))]
    named = [m for m in matched if sum(ch.isalpha() for ch in m) >= 4 and m.lower() not in _COMMON]
    if named:
        return max(named, key=len)
    parsed = parse(ua)
    spider = parsed.device is not None and parsed.device.family == "Spider"
    family = parsed.user_agent.family if parsed.user_agent is not None else "Other"
    if spider and family not in ("Other", "Spider") and family.lower() not in _COMMON:
        return family
    for token in _PRODUCT.findall(ua):
        if token.lower() not in _COMMON and sum(ch.isalpha() for ch in token) >= 3:
            return token
    return "unknown"


@functools.lru_cache(maxsize=16384)
def is_bot(ua: str) -> bool:
    """Whether the user agent is a crawler, monitor, script or automated browser's (an empty or
    near-empty one included)."""
    if len(ua.strip()) < 8:
        return True
    text = normalized(ua)
    if named_crawler(text):
        return True
    return not _OWN_FORMAT.search(ua) and _SHAPES.is_bot(text)
