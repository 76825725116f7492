"""Automated browsers in real Chromium: footfall's verdict beside BotD's, page load by page load.

    python bench/automation.py [--loads 50]

Playwright drives the system's Chromium, headless, through six set-ups: its own user agent
(HeadlessChrome), a Windows and a macOS Chrome user agent, and a Linux Chrome user agent of its
own version (no contradiction left in the user agent), each with `navigator.webdriver` as
Playwright leaves it or hidden (`--disable-blink-features=AutomationControlled`). Every load is a
fresh browser context (a new visitor) on a page carrying footfall's tag and the open-source BotD
(npm `@fingerprintjs/botd`, monitoring off). A load counts as flagged by footfall when the server
answered its page view with `x-footfall-dropped: bot` or `automated`, and by BotD when
`detect()` says `bot: true`. At the end the site must have no visitor from a flagged load.

tests/tracker/test_automation.py runs `measure` with fewer loads as the acceptance test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from playwright.sync_api import Page, Route, sync_playwright  # noqa: E402
from tests.support.browser import CHROMIUM_FLAGS, PageServer  # noqa: E402

from bench import corpora  # noqa: E402

BOTD = corpora.BENCH / "node_modules" / "@fingerprintjs" / "botd" / "dist" / "botd.esm.js"
HIDE = "--disable-blink-features=AutomationControlled"
UA_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
UA_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36"
)
OWN_LINUX = "own version, Linux"  # the browser's real user agent with "HeadlessChrome" made "Chrome"
SCENARIOS: tuple[tuple[str, str | None, bool], ...] = (
    ("headless, its own user agent", None, False),
    ("headless, its own user agent, webdriver hidden", None, True),
    ("Windows Chrome user agent", UA_WINDOWS, False),
    ("Windows Chrome user agent, webdriver hidden", UA_WINDOWS, True),
    ("macOS Chrome user agent, webdriver hidden", UA_MAC, True),
    ("Linux Chrome user agent of its own version, webdriver hidden", OWN_LINUX, True),
)


@dataclass
class Row:
    scenario: str
    loads: int = 0
    footfall: int = 0
    botd: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def page(server_url: str, site: str) -> str:
    return (
        "<!doctype html><html><head><title>Pricing</title>"
        f'<script defer data-website-id="{site}" data-domain="127.0.0.1" data-allow-localhost="true" '
        f'src="{server_url}/js/script.js"></script>'
        '<script type="module">import { load } from "/botd.esm.js";'
        "load({ monitoring: false }).then((b) => b.detect())"
        ".then((r) => (window.__botd = r), (e) => (window.__botd = { error: String(e) }));</script>"
        "</head><body><h1>Pricing</h1></body></html>"
    )


def loopback_only(route: Route) -> None:
    if route.request.url.startswith(("http://127.0.0.1", "http://localhost")):
        route.continue_()
    else:
        route.abort()


def one_load(tab: Page, url: str) -> tuple[str | None, bool]:
    """(footfall's drop reason or None, BotD's verdict) of one page load."""
    answers: list[str] = []
    tab.on("response", lambda r: "/api/events" in r.url and answers.append(r.headers.get("x-footfall-dropped") or ""))
    tab.goto(url)
    tab.wait_for_function("window.__botd !== undefined", timeout=10_000)
    deadline = time.monotonic() + 10
    while not answers and time.monotonic() < deadline:
        tab.wait_for_timeout(20)
    if not answers:
        raise AssertionError("the page view got no answer")
    botd = tab.evaluate("window.__botd")
    if "error" in botd:
        raise AssertionError(f"BotD failed: {botd['error']}")
    return (answers[0] or None), bool(botd["bot"])


def measure(chromium: str, server_url: str, site: str, loads: int) -> list[Row]:
    pages = {"/": page(server_url, site), "/botd.esm.js": BOTD.read_text()}
    rows = []
    with PageServer(pages) as web, sync_playwright() as pw:
        for name, ua, hide in SCENARIOS:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS + ([HIDE] if hide else []))
            try:
                if ua == OWN_LINUX:
                    probe = browser.new_page()
                    ua = probe.evaluate("navigator.userAgent").replace("HeadlessChrome", "Chrome")
                    probe.close()
                row = Row(name)
                for _ in range(loads):
                    ctx = browser.new_context(user_agent=ua) if ua else browser.new_context()
                    ctx.route("**/*", loopback_only)
                    reason, botd = one_load(ctx.new_page(), web.url + "/")
                    ctx.close()
                    row.loads += 1
                    row.footfall += reason in ("bot", "automated")
                    row.botd += botd
                    row.reasons[reason or "kept"] = row.reasons.get(reason or "kept", 0) + 1
                rows.append(row)
            finally:
                browser.close()
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| set-up | loads | footfall flagged | BotD flagged | footfall's reasons |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(r.reasons.items()))
        lines.append(
            f"| {r.scenario} | {r.loads} | {100 * r.footfall / r.loads:.1f}% "
            f"| {100 * r.botd / r.loads:.1f}% | {reasons} |"
        )
    total = sum(r.loads for r in rows)
    ours, theirs = sum(r.footfall for r in rows), sum(r.botd for r in rows)
    lines.append(f"| all | {total} | {100 * ours / total:.1f}% | {100 * theirs / total:.1f}% | |")
    return "\n".join(lines)


def main() -> None:
    from tests.support.servers import ServerProcess, add_site

    from footfall.settings import Settings
    from footfall.store import open_store

    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=50, help="page loads per set-up")
    args = parser.parse_args()
    corpora.npm_ready()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"FOOTFALL_DATA_DIR": tmp}
        store = open_store(Settings.from_env(env))
        site, _ = add_site(store, "127.0.0.1", int(time.time() * 1000), settings={})  # the defaults: filtered
        store.close()
        server = ServerProcess(env).start()
        try:
            rows = measure("/usr/bin/chromium", server.url, site, args.loads)
        finally:
            server.stop()
        store = open_store(Settings.from_env(env))
        visitors = store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM visitors")["n"])
        store.close()
    print(f"\nBotD {corpora.version_npm('@fingerprintjs/botd')}, Chromium headless, {args.loads} loads per set-up\n")
    print(table(rows))
    kept = sum(r.loads - r.footfall for r in rows)
    print(f"\nvisitors stored: {visitors} (loads footfall kept: {kept})")


if __name__ == "__main__":
    main()
