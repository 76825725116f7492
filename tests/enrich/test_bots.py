"""The bot filter (enrich/bots.py): the maintained lists through footfall's normalisation and
overlay, guarded by real browsers and real crawlers from public packages.

The guard reads Matomo's labelled fixtures (PyPI device-detector) and fake-useragent's browsers
at test time: when an update of crawler-user-agents or is-bot starts dropping real browsers, or
stops catching crawlers, these tests fail before a release does."""

from __future__ import annotations

import re

import pytest
from bench import corpora

from footfall.enrich import bots
from footfall.enrich.bots import OVERLAY, SHAPES_OVERLAY, is_bot, named_crawler, normalized

# Each overlay entry and correction, with a real user agent it fixes.
REAL_BROWSERS_THE_LISTS_HIT = {
    "Android 15's build AP3A.240617.008, a crawler pattern": (
        "Mozilla/5.0 (Linux; Android 15; CPH2557 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Version/4.0 Chrome/142.0.7444.142 Mobile Safari/537.36"
    ),
    "an HTC Butterfly (a crawler named Butterfly)": (
        "Mozilla/5.0 (Linux; U; Android 4.3; en-us; HTC_Butterfly Build/JSS15J) AppleWebKit/534.30 (KHTML, like "
        "Gecko) Version/4.0 Mobile Safari/534.30"
    ),
    "Sogou's own mobile browser (Sogou's spiders)": (
        "Mozilla/5.0 (Linux; Android 6.0.1; OPPO R9s Plus Build/MMB29M; wv) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Version/4.0 Chrome/68.0.3440.106 Mobile Safari/537.36 AWP/2.0 SogouMSE,SogouMobileBrowser/5.28.7"
    ),
    "Fluid, a macOS browser": (
        "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_5_6; en-us) AppleWebKit/528.16 (KHTML, like Gecko) "
        "Fluid/0.9.6 Safari/528.16"
    ),
    "a car's head unit with a version ending in 008/": (
        "DESAY TS1008/1.0 Release/07.12.2013 Mozilla/5.0 (Linux; U; Android 4.0.3; zh-cn) AppleWebKit/534.30 "
        "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30"
    ),
    "an LG TV's Web0S (isbot's shapes)": (
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/68.0.3440.106 "
        "Safari/537.36 WebAppManager"
    ),
    "a Hisense TV's Opera (isbot's shapes)": (
        "Mozilla/5.0 (Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/84.0.4147.140 Safari/537.36 "
        "OPR/46.0.2207.0 OMI/4.21.4.112.Catcher4.69 Model/Hisense-MT9602 VIDAA/5.0(Hisense;SmartTV;55A6GTUK)"
    ),
    "a Nokia feature phone (isbot's shapes)": (
        "NokiaN73-2/3.0-630.0.2 Series60/3.0 Profile/MIDP-2.0 Configuration/CLDC-1.1"
    ),
}


@pytest.mark.parametrize("ua", REAL_BROWSERS_THE_LISTS_HIT.values(), ids=REAL_BROWSERS_THE_LISTS_HIT.keys())
def test_real_browsers_the_lists_hit_are_not_bots(ua: str) -> None:
    assert not is_bot(ua)


def test_each_overlay_entry_is_still_needed() -> None:
    """Every pattern the overlay replaces is still in its list, and still hits a real browser:
    an entry that no longer does is dropped from the overlay."""
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA
    from is_bot import Bots

    listed = {entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA}
    assert set(OVERLAY) <= listed
    assert set(SHAPES_OVERLAY) <= Bots().patterns
    raw = list(REAL_BROWSERS_THE_LISTS_HIT.values())
    for pattern in OVERLAY:
        assert any(re.search(pattern, ua) for ua in raw), pattern
    assert any(Bots(SHAPES_OVERLAY).is_bot(ua) for ua in raw)


def test_the_platform_segment_loses_the_model_and_build_but_not_a_crawler_name() -> None:
    phone = REAL_BROWSERS_THE_LISTS_HIT["Android 15's build AP3A.240617.008, a crawler pattern"]
    assert normalized(phone).startswith("Mozilla/5.0 (Linux; Android 15; wv) AppleWebKit")
    google = (
        "Mozilla/5.0 (Linux; Android 8.0; Pixel 2 Build/OPD3.170816.012; Storebot-Google/1.0) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/81.0.4044.138 Mobile Safari/537.36"
    )
    assert "Storebot-Google/1.0" in normalized(google) and is_bot(google)
    surdotly = "Mozilla/5.0 (compatible; SurdotlyBot/1.0; +http://sur.ly/bot.html; Linux; Android 4; iPhone)"
    assert normalized(surdotly) == surdotly and is_bot(surdotly)  # a bot's "(compatible; ...)" is kept whole


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.75 Safari/537.36 "
        "Google Favicon",
        "Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)",
        "Mozilla/5.0 (compatible; EasouSpider; +http://www.easou.com/search/spider.html)",
        "Spinn3r 3.1 (+http://www.spinn3r.com/robot)",
        "UptimeRobot/2.0 (+http://www.uptimerobot.com/)",
        "python-requests/2.32.3",
        "Go-http-client/2.0",
        "curl/8.5.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
        "",
        "Mozilla",
    ],
)
def test_crawlers_monitors_scripts_and_ai_fetchers_are_bots(ua: str) -> None:
    assert is_bot(ua)


@pytest.fixture(scope="module")
def real_browsers() -> list[corpora.Labelled]:
    return corpora.pypi_browsers()


def test_real_browsers_are_not_dropped(real_browsers: list[corpora.Labelled]) -> None:
    """The guard: at most 0.1% of 35,000 real browsers' user agents (Matomo's labelled browsers of
    every device type, fake-useragent's), and no phone or tablet of the last ten years."""
    assert len(real_browsers) > 30_000
    flagged = [b for b in real_browsers if is_bot(b.ua)]
    assert len(flagged) <= 0.001 * len(real_browsers), [b.ua for b in flagged][:50]
    # Chrome's own form on Android 10 and later, nothing appended by an app or a proxy
    chrome = re.compile(r"Android 1\d.*Chrome/[\d.]+ (Mobile )?Safari/[\d.]+$")
    assert [b.ua for b in flagged if b.device in ("mobile", "tablet") and chrome.search(b.ua)] == []


def test_known_crawlers_are_caught() -> None:
    """At least 99% of Matomo's bot fixtures and crawler-user-agents' own instances."""
    crawlers = [b for b in corpora.bots() if b.pattern not in OVERLAY or OVERLAY[b.pattern] is not None]
    missed = [b.ua for b in crawlers if not is_bot(b.ua)]
    assert len(crawlers) > 3000 and len(missed) <= 0.01 * len(crawlers), missed[:30]


def test_named_crawlers_are_matched_in_chunks_like_the_package() -> None:
    assert named_crawler("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")
    assert not named_crawler(REAL_BROWSERS_THE_LISTS_HIT["Sogou's own mobile browser (Sogou's spiders)"])
    assert bots.is_bot.cache_info().maxsize == 16384  # one parse per distinct user agent
