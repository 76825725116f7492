"""Referrer spam: referrers that only exist to be seen in analytics (docs/bots.md).

No maintained referrer-spam list is published on PyPI or npm (checked 2026-12: Matomo's
referrer-spam-list, the one Plausible and Matomo use, ships through Composer and GitHub only).
footfall reads that list's format, one domain per line, from FOOTFALL_REFERRER_SPAM_FILE
(`footfall referrer-spam update` downloads Matomo's list there), plus each site's own
`spam_referrers`. A referrer is spam when its host or any parent domain of it is listed.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import httpx

SPAM_FILE = "referrer-spam.txt"  # in the data directory
MATOMO_LIST = "https://raw.githubusercontent.com/matomo-org/referrer-spam-list/master/spammers.txt"


def parse_list(text: str) -> frozenset[str]:
    """Domains of a list in Matomo's format: one per line; blank lines and # comments skipped."""
    out = set()
    for line in text.splitlines():
        domain = line.split("#", 1)[0].strip().lower().removeprefix("www.")
        if domain and "." in domain and " " not in domain:
            out.add(domain)
    return frozenset(out)


class ReferrerSpam:
    """The spam domains of the list file (read when the server starts)."""

    def __init__(self, domains: frozenset[str] = frozenset()) -> None:
        self.domains = domains

    @classmethod
    def from_file(cls, path: Path | None) -> ReferrerSpam:
        if path is None or not path.exists():
            return cls()
        return cls(parse_list(path.read_text(encoding="utf-8", errors="replace")))

    def is_spam(self, host: str | None, site_list: tuple[str, ...] = ()) -> bool:
        if not host:
            return False
        return any(domain in self.domains or domain in site_list for domain in _parents(host))


@functools.lru_cache(maxsize=8192)
def _parents(host: str) -> tuple[str, ...]:
    """news.spam.example -> (news.spam.example, spam.example): the host and its parent domains."""
    labels = host.lower().split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels) - 1))


def download(url: str, target: Path) -> int:
    """Reads the list at `url` into `target` (replaced whole, never half-written); its size."""
    answer = httpx.get(url, timeout=60, follow_redirects=True)
    answer.raise_for_status()
    domains = parse_list(answer.text)
    if not domains:
        raise ValueError("no domains in it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_text("\n".join(sorted(domains)) + "\n", encoding="utf-8")
    os.replace(partial, target)
    return len(domains)
