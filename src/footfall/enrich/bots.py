"""Bot user agents: the crawler-user-agents patterns, plus empty and obviously scripted agents."""

from __future__ import annotations

import functools

from crawleruseragents import is_crawler


@functools.lru_cache(maxsize=16384)
def is_bot(ua: str) -> bool:
    if len(ua.strip()) < 8:
        return True
    return is_crawler(ua)
