"""Bot user agents: footfall's filter against the maintained lists alone, on labelled corpora.

    python bench/bots.py

Corpora (bench/corpora.py; each source's version is printed): bots are Matomo's bot fixtures and
crawler-user-agents' instances; real browsers are Matomo's browser fixtures of every device type,
Intoli's user agents of real sessions and fake-useragent's. Measured in one run: footfall's
`is_bot`, crawler-user-agents alone, crawlerdetect alone, and npm isbot (through node). Recall on
bots, false positives on browsers, by source, so that what is in-sample for a detector shows
(crawler-user-agents' own instances for it and for footfall, which uses it).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench import corpora  # noqa: E402
from footfall.enrich import bots as bots_module  # noqa: E402
from footfall.enrich.bots import is_bot  # noqa: E402


def isbot(uas: list[str]) -> list[bool]:
    corpora.npm_ready()
    done = subprocess.run(
        ["node", str(corpora.BENCH / "isbot.mjs")], input=json.dumps(uas), capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout))


def detectors() -> dict[str, Callable[[list[str]], list[bool]]]:
    from crawlerdetect import CrawlerDetect
    from crawleruseragents import is_crawler

    detect = CrawlerDetect()
    return {
        "footfall": lambda uas: [is_bot.__wrapped__(ua) for ua in uas],  # uncached, for the timing
        "crawler-user-agents": lambda uas: [is_crawler(ua) for ua in uas],
        "crawlerdetect": lambda uas: [detect.isCrawler(ua) for ua in uas],
        "isbot (npm)": isbot,
    }


def disputed(item: corpora.Labelled) -> bool:
    """An instance crawler-user-agents lists for a pattern footfall's overlay leaves out, or that
    its pattern matches only in the device model or build of the platform segment (a real phone's
    user agent, such as Android 15's build AP3A.240617.008)."""
    if item.pattern is None:
        return False
    if item.pattern in bots_module.OVERLAY and bots_module.OVERLAY[item.pattern] is None:
        return True
    return (
        re.search(item.pattern, item.ua) is not None
        and re.search(item.pattern, bots_module.normalized(item.ua)) is None
    )


def main() -> None:
    everything, browsers = corpora.bots(), corpora.browsers()
    bots = [b for b in everything if not disputed(b)]
    put_aside = [b for b in everything if disputed(b)]
    versions = {p: corpora.version(p) for p in ("device-detector", "crawler-user-agents", "is-bot", "crawlerdetect",
                                                "fake-useragent")}  # fmt: skip
    node = json.loads((corpora.BENCH / "node_modules" / "isbot" / "package.json").read_text())["version"]
    intoli = json.loads((corpora.BENCH / "node_modules" / "user-agents" / "package.json").read_text())["version"]
    print("\ncorpora and detectors: " + ", ".join(f"{k} {v}" for k, v in versions.items())
          + f", npm isbot {node}, npm user-agents {intoli}")  # fmt: skip
    print(f"{len(bots):,} bots, {len(browsers):,} real browsers (distinct user agents); {len(put_aside)} of "
          "crawler-user-agents' instances put aside as disputed (below)\n")  # fmt: skip
    rows: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    timing: dict[str, float] = {}
    missed: list[str] = []
    flagged: list[str] = []
    for name, detect in detectors().items():
        started = time.perf_counter()
        said_bots, said_browsers = detect([b.ua for b in bots]), detect([b.ua for b in browsers])
        timing[name] = (time.perf_counter() - started) * 1e6 / (len(bots) + len(browsers))
        by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for items, said, total in ((bots, said_bots, "bots, all"), (browsers, said_browsers, "browsers, all")):
            for item, verdict in zip(items, said, strict=True):
                for key in (item.source, total):
                    by[key][0] += verdict
                    by[key][1] += 1
                if name == "footfall" and verdict != (total == "bots, all"):
                    (missed if total == "bots, all" else flagged).append(f"  {item.source}: {item.ua[:150]}")
        rows[name] = {k: (v[0], v[1]) for k, v in by.items()}
    order = ["bots, all", "matomo-bots", "crawler-user-agents", "browsers, all", "matomo-browsers", "intoli",
             "fake-useragent"]  # fmt: skip
    names = list(rows)
    print("| corpus | " + " | ".join(names) + " |")
    print("| --- | " + " | ".join("---:" for _ in names) + " |")
    for corpus in order:
        kind = "recall" if corpus.startswith(("bots", "matomo-bots", "crawler")) else "flagged"
        cells = [f"{100 * rows[n][corpus][0] / rows[n][corpus][1]:.2f}%" for n in names]
        print(f"| {corpus} ({kind}, n={rows[names[0]][corpus][1]:,}) | " + " | ".join(cells) + " |")
    print("| µs per user agent, uncached | " + " | ".join(f"{timing[n]:.0f}" for n in names) + " |")
    print("\nisbot (npm) is timed with node's start and JSON transfer included.")
    print(f"\ndisputed instances of crawler-user-agents ({len(put_aside)}), not counted:")
    print("\n".join(f"  {b.pattern!r}: {b.ua[:140]}" for b in put_aside))
    print(f"\nfootfall missed {len(missed)} bots:\n" + "\n".join(missed[:40]))
    print(f"\nfootfall flagged {len(flagged)} browsers:\n" + "\n".join(flagged[:60]))


if __name__ == "__main__":
    main()
