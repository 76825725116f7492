"""Filtered traffic: what collect drops, counted per site, UTC day, reason and user-agent family,
with a few raw user agents of each as samples (docs/bots.md).

Counted in memory on the collect path (no write per dropped event) and added to the `filtered`
table every few seconds and at shutdown (`flush`); a crash loses at most those seconds of counts.
Nothing filtered is stored anywhere else: no visitor, session, person, company or workflow row.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from footfall.clock import Clock
from footfall.enrich import bots
from footfall.enrich.user_agent import parse_agent
from footfall.store.base import Store, Tx

SAMPLES = 5  # raw user agents kept per site, day, reason and family
SAMPLE_CHARS = 300

# reason -> what it means, in the words the dashboard and the API show
REASONS: dict[str, str] = {
    "bot": "Crawler, monitor or script: its user agent says so",
    "automated": "Automated browser: the page reported automation (WebDriver, headless, a forged user agent)",
    "datacenter": "From a hosting network, without running the tracker",
    "too_fast": "Faster than a person: more page views a minute than anyone reads",
    "referrer_spam": "Referrer spam: the referrer is a known spam domain",
    "unknown_site": "No site with this id",
    "hostname_not_allowed": "The page's host is not the site's",
    "opted_out": "The browser opted out (Global Privacy Control or Do Not Track)",
    "excluded_ip": "An address the site excludes",
    "excluded_path": "A path the site excludes",
    "excluded_hostname": "A hostname the site excludes",
    "excluded_country": "A country the site excludes",
    "form_capture_off": "A captured form, on a site without form capture",
}
# reason -> what the owner can do when the refused event was theirs (the install page)
FIXES: dict[str, str] = {
    "hostname_not_allowed": "If this page is yours, add its host to the site's other allowed hostnames in Settings.",
    "automated": "A test with a headless or driven browser? Settings can keep automated traffic.",
    "bot": "Test with a real browser: requests from scripts and crawlers are not counted.",
    "too_fast": "Reloading a page many times a minute is not counted as reading it.",
    "opted_out": "Your browser sends Global Privacy Control or Do Not Track, which the site respects (Settings).",
    "excluded_ip": "Your address is in the site's exclusions (Settings).",
    "excluded_path": "This path is in the site's exclusions (Settings).",
    "excluded_hostname": "This hostname is in the site's exclusions (Settings).",
    "excluded_country": "Your country is in the site's exclusions (Settings).",
    "datacenter": "Pages opened from a server or VPN without the tracker are not counted; open the page in a browser.",
    "form_capture_off": "Turn form capture on in Settings to record opted-in forms.",
}
_PRODUCT = re.compile(r"^\s*([A-Za-z][\w .+-]{0,40}?)\s*(?:[/;(]|$)")

Key = tuple[str, str, str]  # site id, reason, user-agent family


def agent_family(ua: str, reason: str = "") -> str:
    """A user agent's family: for a bot, what the lists know it by ("Googlebot", "Google Favicon");
    else the browser ua-parser names, else the first product token (`python-requests`), else
    "unknown"."""
    if not ua.strip():
        return "(no user agent)"
    if reason == "bot":
        return bots.name(ua)
    named = parse_agent(ua).browser
    if named:
        return named
    found = _PRODUCT.match(ua)
    return found.group(1).strip() if found else "unknown"


class Filtered:
    """Drops counted in memory until the next flush."""

    def __init__(self) -> None:
        self.counts: Counter[Key] = Counter()
        self.samples: dict[Key, list[str]] = {}
        self.last: dict[Key, tuple[int, str]] = {}  # the latest drop: its time (ms) and page

    def add(self, site_id: str, reason: str, ua: str, at: int | None = None, url: str | None = None) -> None:
        key = (site_id, reason, agent_family(ua, reason))
        self.counts[key] += 1
        if at is not None and (key not in self.last or self.last[key][0] <= at):
            self.last[key] = (at, (url or "")[:SAMPLE_CHARS])
        kept = self.samples.setdefault(key, [])
        sample = ua[:SAMPLE_CHARS]
        if len(kept) < SAMPLES and sample not in kept:
            kept.append(sample)

    def pending(self, site_id: str, reason: str) -> int:
        """Drops of one site and reason not flushed yet."""
        return sum(n for (s, r, _), n in self.counts.items() if (s, r) == (site_id, reason))

    def take(self) -> tuple[Counter[Key], dict[Key, list[str]], dict[Key, tuple[int, str]]]:
        counts, samples, last = self.counts, self.samples, self.last
        self.counts, self.samples, self.last = Counter(), {}, {}
        return counts, samples, last


def flush(store: Store, filtered: Filtered, clock: Clock) -> None:
    """Adds the counts gathered in memory to `filtered`, merging the samples."""
    counts, samples, last = filtered.take()
    if not counts:
        return
    day = datetime.fromtimestamp(clock.now_ms() / 1000, UTC).strftime("%Y-%m-%d")

    def add(tx: Tx) -> None:
        for (site, reason, family), n in counts.items():
            row = tx.one(
                "SELECT samples FROM filtered WHERE site_id = ? AND day = ? AND reason = ? AND agent = ?",
                (site, day, reason, family),
            )
            at, url = last.get((site, reason, family), (None, None))
            if row is None:
                tx.execute(
                    "INSERT INTO filtered (site_id, day, reason, agent, count, samples, last_at, last_url) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (site, day, reason, family, n, json.dumps(samples.get((site, reason, family), [])), at, url),
                )
                continue
            kept = json.loads(row["samples"])
            kept += [s for s in samples.get((site, reason, family), []) if s not in kept]
            tx.execute(
                "UPDATE filtered SET count = count + ?, samples = ?, last_at = COALESCE(?, last_at), "
                "last_url = COALESCE(?, last_url) WHERE site_id = ? AND day = ? AND reason = ? AND agent = ?",
                (n, json.dumps(kept[:SAMPLES]), at, url, site, day, reason, family),
            )

    try:
        store.write(add)
    except Exception:
        for key, n in counts.items():  # kept for the next flush
            filtered.counts[key] += n
        for key, seen in last.items():
            filtered.last.setdefault(key, seen)
        raise


def latest(tx: Tx, site_id: str) -> dict[str, Any] | None:
    """The site's latest refused event: when, its page, the reason in words and what would fix it."""
    row = tx.one(
        "SELECT reason, agent, last_at, last_url FROM filtered WHERE site_id = ? AND last_at IS NOT NULL "
        "ORDER BY last_at DESC LIMIT 1",
        (site_id,),
    )
    if row is None:
        return None
    return {
        "reason": row["reason"],
        "reasonText": REASONS.get(row["reason"], row["reason"]),
        "fix": FIXES.get(row["reason"]),
        "userAgentFamily": row["agent"],
        "at": row["last_at"],
        "url": row["last_url"],
    }


def read(tx: Tx, site_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """The site's filtered traffic from `first_day` to `last_day` (YYYY-MM-DD, both included), most
    first: one row per day, reason and user-agent family."""
    rows = tx.all(
        "SELECT day, reason, agent, count, samples FROM filtered WHERE site_id = ? AND day >= ? AND day <= ? "
        "ORDER BY day DESC, count DESC, reason, agent",
        (site_id, first_day, last_day),
    )
    return [
        {
            "day": r["day"],
            "reason": r["reason"],
            "reasonText": REASONS.get(r["reason"], r["reason"]),
            "userAgentFamily": r["agent"],
            "count": r["count"],
            "samples": json.loads(r["samples"]),
        }
        for r in rows
    ]


def totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per reason, over the rows: the count and the families, most first."""
    by: dict[str, Counter[str]] = {}
    for r in rows:
        by.setdefault(r["reason"], Counter())[r["userAgentFamily"]] += r["count"]
    out = [
        {
            "reason": reason,
            "reasonText": REASONS.get(reason, reason),
            "count": sum(c.values()),
            "userAgentFamilies": [{"name": k, "count": v} for k, v in c.most_common()],
        }  # fmt: skip
        for reason, c in by.items()
    ]
    return sorted(out, key=lambda r: (-r["count"], r["reason"]))
