"""User-agent parsing: browser family and device type, measured on labelled corpora.

    python bench/user_agents.py

Labels (bench/corpora.py; versions printed): Matomo's Device Detector fixtures (browser name and
device type, one file per device type) and Intoli's user agents of real sessions (device
category measured in the browser). footfall's parser (ua-parser's rules, footfall's device-type
rule and its naming overlay) is measured beside ua-parser alone, each against the labels.

Browser names are compared after folding the two vocabularies: case, spaces, and the words
"browser", "mobile", "webview" and "internet" do not count ("Chrome Mobile WebView" is Matomo's
"Chrome Webview", "Samsung Internet" its "Samsung Browser"), and `SAME` lists the names that are
spelled differently for one browser. Device types are compared as phone / tablet / desktop (the
target); TVs and consoles are reported beside.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from ua_parser import parse  # noqa: E402

from bench import corpora  # noqa: E402
from footfall.enrich.user_agent import parse_agent  # noqa: E402

# one browser, two spellings: folded name -> the folded name it is the same as
SAME = {
    "ie": "explorer",  # Internet Explorer
    "miui": "mi",
    "amazonsilk": "silk",
    "edge": "microsoftedge",
    "dolfin": "dolphin",
    "epiphany": "gnome",
    "seznamprohlížeč": "seznam",
    "up.": "openwave",
    "qtwebengine": "qtengine",
    "vewd": "operadevices",
    "ecosiaandroid": "ecosia",
    "safariui/wk": "safari",  # Safari's in-app view (SFSafariViewController, WKWebView)
    "blackberrywebkit": "blackberry",
    "webos": "wos",
    "nokiaservices(wap)": "nokia",
    "steamgameoverlay": "steamin-gameoverlay",
    "duckduckgoprivacy": "duckduckgo",
    "icedragon": "dragon",
    "espialtv": "espial",
    "qqmobile": "qq",
    "huawei": "huawei",
    "heytap": "heytap",
    "atom": "atom",
    "yandexsearch": "yandex",  # the Yandex app's browser, which Matomo names Yandex Browser
}
WORDS = re.compile(r"browser|mobile|webview|internet|web\b|\s", re.IGNORECASE)


def fold(name: str | None) -> str | None:
    if name is None:
        return None
    folded = WORDS.sub("", name.lower())
    if folded.startswith("puffin"):
        folded = "puffin"  # Puffin's several editions
    return SAME.get(folded, folded)


def same_browser(label: str | None, said: str | None) -> bool:
    return fold(label) == fold(said)


DEVICE = {"mobile", "tablet", "desktop"}


def uap_only(ua: str) -> tuple[str | None, str | None]:
    """ua-parser's browser name, with footfall's device-type rule of 0.1.0 for the type."""
    r = parse(ua)
    return (r.user_agent.family if r.user_agent else None), None


def main() -> None:
    versions = {p: corpora.version(p) for p in ("device-detector", "ua-parser", "ua-parser-builtins")}
    print("\nlabels: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ", npm user-agents (Intoli)\n")
    matomo = [x for x in corpora.matomo() if x.source == "matomo-browsers"]
    intoli = corpora.unique(corpora.intoli())
    started = time.perf_counter()
    ours = {x.ua: parse_agent.__wrapped__(x.ua) for x in matomo + intoli}
    micros = (time.perf_counter() - started) * 1e6 / len(ours)
    names = Counter[tuple[bool, bool]]()
    wrong_names = Counter[tuple[str | None, str | None]]()
    for x in matomo:
        uap_name = uap_only(x.ua)[0]
        names[(same_browser(x.browser, ours[x.ua].browser), same_browser(x.browser, uap_name))] += 1
        if not same_browser(x.browser, ours[x.ua].browser):
            wrong_names[(x.browser, ours[x.ua].browser)] += 1
    total = sum(names.values())
    ours_right = sum(n for (o, _), n in names.items() if o)
    uap_right = sum(n for (_, u), n in names.items() if u)
    print("| measure | footfall | ua-parser alone |")
    print("| --- | ---: | ---: |")
    print(
        f"| browser family, Matomo (n={total:,}) | {100 * ours_right / total:.2f}% | {100 * uap_right / total:.2f}% |"
    )
    for corpus, items in (("Matomo", matomo), ("Intoli", intoli)):
        scored = [x for x in items if x.device in DEVICE]
        right = sum(ours[x.ua].device_type == x.device for x in scored)
        print(
            f"| device type (phone/tablet/desktop), {corpus} (n={len(scored):,}) | {100 * right / len(scored):.2f}% | |"
        )
    both = [x for x in matomo + intoli if x.device in DEVICE]
    right = sum(ours[x.ua].device_type == x.device for x in both)
    print(f"| device type, both (n={len(both):,}) | {100 * right / len(both):.2f}% | |")
    print(f"| µs per user agent, uncached | {micros:.0f} | |")
    for corpus, items in (("Matomo", matomo), ("Intoli", intoli)):
        print(f"\ndevice type confusion, {corpus} (rows: label, columns: footfall)\n")
        kinds = ["mobile", "tablet", "desktop", "tv", "console"]
        said_kinds = [*kinds, None]
        grid = Counter((x.device, ours[x.ua].device_type) for x in items)
        print("| label | " + " | ".join(str(k or "unknown") for k in said_kinds) + " |")
        print("| --- | " + " | ".join("---:" for _ in said_kinds) + " |")
        for k in kinds:
            if any(grid[(k, s)] for s in said_kinds):
                print(f"| {k} | " + " | ".join(f"{grid[(k, s)]:,}" for s in said_kinds) + " |")
    print("\nbrowser names footfall gets wrong most often (Matomo's name -> footfall's):")
    for (label, said), n in wrong_names.most_common(25):
        print(f"  {n:5}  {label} -> {said}")
    if "-v" in sys.argv:
        for kind in DEVICE:
            wrong = Counter((x.device, ours[x.ua].device_type, x.ua[:160]) for x in matomo if x.device == kind
                            and ours[x.ua].device_type != kind)  # fmt: skip
            print(f"\n{kind} wrong: {sum(wrong.values())}")
            for (label, said, ua), _ in list(wrong.items())[:40]:
                print(f"  {label}->{said}: {ua}")


if __name__ == "__main__":
    main()
