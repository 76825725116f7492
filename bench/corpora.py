"""Labelled user-agent corpora from public packages, for bench/bots.py and the tests that guard the
bot filter and the user-agent parser (never committed: read from the installed packages).

- Matomo's Device Detector fixtures, shipped in PyPI `device-detector` (its port): real user
  agents labelled by Matomo, `bots.yml` (bots, with category) and one file per device type
  (smartphone, tablet, desktop, tv, console, feature phone...), each with its client (browser or
  app, and its family) and device type.
- crawler-user-agents (PyPI): each pattern's `instances`, real bots' user agents.
- user-agents (npm, by Intoli): 10,000 user agents of real browsing sessions, with the device
  category measured in the browser (desktop, mobile, tablet), installed in bench/ by `npm ci`.
- fake-useragent (PyPI): real browsers' user agents collected from traffic.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
INTOLI = BENCH / "node_modules" / "user-agents" / "dist" / "user-agents.json"
DEVICE_FILES = {  # Matomo's fixture file -> footfall's device type
    "smartphone": "mobile",
    "phablet": "mobile",
    "feature_phone": "mobile",
    "tablet": "tablet",
    "desktop": "desktop",
    "tv": "tv",
    "console": "console",
}


@dataclass(frozen=True)
class Labelled:
    ua: str
    source: str
    device: str | None = None  # footfall's type: mobile, tablet, desktop, tv, console
    browser: str | None = None  # the browser's name, Matomo's words
    family: str | None = None  # Matomo's browser family (Chrome for every Chromium browser...)
    bot_category: str | None = None
    pattern: str | None = None  # crawler-user-agents' pattern it is an instance of


def version(package: str) -> str:
    return metadata.version(package)


def version_npm(package: str) -> str:
    return str(json.loads((BENCH / "node_modules" / package / "package.json").read_text())["version"])


def npm_ready() -> None:
    if not INTOLI.exists():
        subprocess.run(["npm", "ci", "--silent"], cwd=BENCH, check=True)


@functools.cache
def _matomo_files() -> list[tuple[str, object]]:
    """Matomo's fixture files, parsed once per process (8 s of YAML: the tests read them three times)."""
    folder = resources.files("device_detector") / "tests" / "fixtures" / "upstream"
    return [
        (entry.name[:-4], yaml.load(entry.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yml")
    ]


def matomo() -> Iterator[Labelled]:
    """Matomo's bots and its browsers (client type `browser`) on the device types footfall tells."""
    for name, entries in _matomo_files():
        kind = DEVICE_FILES.get(name.split("-")[0])
        for e in entries or []:  # type: ignore[attr-defined]
            if name == "bots":
                yield Labelled(e["user_agent"], "matomo-bots", bot_category=(e.get("bot") or {}).get("category"))
            elif kind and isinstance(e.get("client"), dict) and e["client"].get("type") == "browser":
                name, family = e["client"].get("name"), e.get("browser_family")
                yield Labelled(e["user_agent"], "matomo-browsers", kind, name, family)


def crawler_instances() -> Iterator[Labelled]:
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    for pattern in CRAWLER_USER_AGENTS_DATA:
        for ua in pattern.get("instances", []):
            yield Labelled(ua, "crawler-user-agents", pattern=pattern["pattern"])


def intoli() -> Iterator[Labelled]:
    npm_ready()
    for row in json.loads(INTOLI.read_text()):
        yield Labelled(row["userAgent"], "intoli", row["deviceCategory"])


def fake_useragent() -> Iterator[Labelled]:
    path = resources.files("fake_useragent") / "data" / "browsers.jsonl"
    for line in path.read_text().splitlines():
        yield Labelled(json.loads(line)["useragent"], "fake-useragent")


def unique(items: Iterator[Labelled]) -> list[Labelled]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.ua and item.ua not in seen:
            seen.add(item.ua)
            out.append(item)
    return out


def bots() -> list[Labelled]:
    return unique(x for src in (matomo(), crawler_instances()) for x in src if x.source != "matomo-browsers")


def browsers() -> list[Labelled]:
    return unique(x for src in (matomo(), intoli(), fake_useragent()) for x in src if x.source != "matomo-bots")


def pypi_browsers() -> list[Labelled]:
    """The real browsers of the PyPI packages only (no npm needed): what the tests guard."""
    return unique(x for src in (matomo(), fake_useragent()) for x in src if x.source != "matomo-bots")
