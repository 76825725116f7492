"""Referrer and campaign -> a source name and a channel (Plausible/GA4-style grouping).

The rules, in order (documented in docs/enrichment.md):
1. utm_medium says email / paid / social / affiliate / display -> that channel.
2. An ad click id: gclid, gbraid, wbraid, gclsrc, msclkid -> Paid Search; ttclid, twclid, li_fat_id -> Paid Social.
3. The referrer's (or, without one, utm_source's) known source -> its category's organic channel:
   first by host (`KNOWN_HOSTS`: webmail, AI assistants, t.me, Mastodon instances...), then by the
   registrable domain's stem (`KNOWN_SOURCES`: google.* and google.co.uk alike).
4. Any other external referrer -> Referral; a campaign source without referrer -> Referral.
5. Nothing at all -> Direct.
"""

from __future__ import annotations

import functools
from typing import NamedTuple
from urllib.parse import urlsplit

SEARCH, SOCIAL, EMAIL, VIDEO, AI = "search", "social", "email", "video", "ai"

# No maintained list of referrer sources is published on PyPI or npm: the Snowplow referer-parser
# ports stopped in 2016 (before Bluesky, Threads or any AI assistant), and Matomo's
# searchengine-and-social-list ships through Composer only. So the table is kept here, by host
# first (a host or any parent of it), then by the registrable domain's stem.
KNOWN_HOSTS: dict[str, tuple[str, str]] = {
    # webmail: a link opened from an email, not a search
    "mail.google.com": ("Gmail", EMAIL),
    "inbox.google.com": ("Gmail", EMAIL),
    "outlook.live.com": ("Outlook", EMAIL),
    "outlook.office.com": ("Outlook", EMAIL),
    "outlook.office365.com": ("Outlook", EMAIL),
    "mail.yahoo.com": ("Yahoo! Mail", EMAIL),
    "mail.aol.com": ("AOL Mail", EMAIL),
    "mail.proton.me": ("Proton Mail", EMAIL),
    "mail.protonmail.com": ("Proton Mail", EMAIL),
    "app.fastmail.com": ("Fastmail", EMAIL),
    "mail.zoho.com": ("Zoho Mail", EMAIL),
    "mail.yandex.ru": ("Yandex Mail", EMAIL),
    "e.mail.ru": ("Mail.ru", EMAIL),
    "mail.qq.com": ("QQ Mail", EMAIL),
    "mail.163.com": ("NetEase Mail", EMAIL),
    "navigator-bs.gmx.com": ("GMX", EMAIL),
    "email.t-online.de": ("T-Online Mail", EMAIL),
    "webmail.free.fr": ("Free Mail", EMAIL),
    # AI assistants
    "chatgpt.com": ("ChatGPT", AI),
    "chat.openai.com": ("ChatGPT", AI),
    "claude.ai": ("Claude", AI),
    "perplexity.ai": ("Perplexity", AI),
    "copilot.microsoft.com": ("Copilot", AI),
    "gemini.google.com": ("Gemini", AI),
    "bard.google.com": ("Gemini", AI),
    "chat.deepseek.com": ("DeepSeek", AI),
    "chat.mistral.ai": ("Mistral Le Chat", AI),
    "you.com": ("You.com", AI),
    "phind.com": ("Phind", AI),
    "poe.com": ("Poe", AI),
    "grok.com": ("Grok", AI),
    "meta.ai": ("Meta AI", AI),
    "kimi.com": ("Kimi", AI),
    "chat.qwen.ai": ("Qwen", AI),
    # hosts whose domain's stem would say something else
    "t.me": ("Telegram", SOCIAL),
    "t.co": ("X", SOCIAL),
    "news.ycombinator.com": ("Hacker News", SOCIAL),
    "m.vk.com": ("VK", SOCIAL),
    "vk.com": ("VK", SOCIAL),
    "weibo.com": ("Weibo", SOCIAL),
    "weibo.cn": ("Weibo", SOCIAL),
    "m.weibo.cn": ("Weibo", SOCIAL),
    "so.com": ("360 Search", SEARCH),
    "m.so.com": ("360 Search", SEARCH),
    # the largest Mastodon instances (any host with "mastodon" or "mstdn" in it counts too)
    "mastodon.social": ("Mastodon", SOCIAL),
    "mas.to": ("Mastodon", SOCIAL),
    "fosstodon.org": ("Mastodon", SOCIAL),
    "hachyderm.io": ("Mastodon", SOCIAL),
    "infosec.exchange": ("Mastodon", SOCIAL),
    "mstdn.social": ("Mastodon", SOCIAL),
    "techhub.social": ("Mastodon", SOCIAL),
    "chaos.social": ("Mastodon", SOCIAL),
    "universeodon.com": ("Mastodon", SOCIAL),
    "pawoo.net": ("Mastodon", SOCIAL),
    "troet.cafe": ("Mastodon", SOCIAL),
    "social.vivaldi.net": ("Mastodon", SOCIAL),
}

# registrable-domain stem -> (display name, category)
KNOWN_SOURCES: dict[str, tuple[str, str]] = {
    "google": ("Google", SEARCH),
    "bing": ("Bing", SEARCH),
    "duckduckgo": ("DuckDuckGo", SEARCH),
    "yahoo": ("Yahoo!", SEARCH),
    "yandex": ("Yandex", SEARCH),
    "baidu": ("Baidu", SEARCH),
    "ecosia": ("Ecosia", SEARCH),
    "brave": ("Brave Search", SEARCH),
    "qwant": ("Qwant", SEARCH),
    "naver": ("Naver", SEARCH),
    "seznam": ("Seznam", SEARCH),
    "startpage": ("Startpage", SEARCH),
    "kagi": ("Kagi", SEARCH),
    "sogou": ("Sogou", SEARCH),
    "daum": ("Daum", SEARCH),
    "360": ("360 Search", SEARCH),
    "perplexity": ("Perplexity", AI),
    "chatgpt": ("ChatGPT", AI),
    "vk": ("VK", SOCIAL),
    "weibo": ("Weibo", SOCIAL),
    "facebook": ("Facebook", SOCIAL),
    "fb": ("Facebook", SOCIAL),
    "instagram": ("Instagram", SOCIAL),
    "twitter": ("X", SOCIAL),
    "x": ("X", SOCIAL),
    "linkedin": ("LinkedIn", SOCIAL),
    "lnkd": ("LinkedIn", SOCIAL),
    "reddit": ("Reddit", SOCIAL),
    "pinterest": ("Pinterest", SOCIAL),
    "tiktok": ("TikTok", SOCIAL),
    "threads": ("Threads", SOCIAL),
    "bsky": ("Bluesky", SOCIAL),
    "mastodon": ("Mastodon", SOCIAL),
    "ycombinator": ("Hacker News", SOCIAL),
    "producthunt": ("Product Hunt", SOCIAL),
    "quora": ("Quora", SOCIAL),
    "discord": ("Discord", SOCIAL),
    "slack": ("Slack", SOCIAL),
    "telegram": ("Telegram", SOCIAL),
    "whatsapp": ("WhatsApp", SOCIAL),
    "youtube": ("YouTube", VIDEO),
    "youtu": ("YouTube", VIDEO),
    "vimeo": ("Vimeo", VIDEO),
    "twitch": ("Twitch", VIDEO),
    "mail": ("Email", EMAIL),
    "gmail": ("Gmail", EMAIL),
    "outlook": ("Outlook", EMAIL),
}
_ORGANIC = {
    SEARCH: "Organic Search",
    SOCIAL: "Organic Social",
    EMAIL: "Email",
    VIDEO: "Organic Video",
    AI: "AI assistants",
}
_FEDIVERSE = ("mastodon", "mstdn")
_PAID_SEARCH_IDS = ("gclid", "gbraid", "wbraid", "gclsrc", "msclkid")
_PAID_SOCIAL_IDS = ("ttclid", "twclid", "li_fat_id")
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or"}


class Referral(NamedTuple):
    host: str | None  # external referrer host, None for direct or internal
    source: str | None  # display name: "Google", "news.example.com", a utm_source; None = Direct
    channel: str


def _stem(host: str) -> str:
    """news.google.co.uk -> google; t.co -> t. A rule of thumb, enough for the known table."""
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


@functools.lru_cache(maxsize=16_384)
def referrer_host(referrer: str | None) -> str | None:
    if not referrer:
        return None
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


@functools.lru_cache(maxsize=16_384)
def known_source(host: str) -> tuple[str, str] | None:
    """The known source of a referrer host: by the host or a parent of it, then by the stem; a
    webmail host (`mail.`, `webmail.`) of any domain is email, a Mastodon instance social."""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        found = KNOWN_HOSTS.get(".".join(labels[i:]))
        if found:
            return found
    if labels[0] in ("mail", "webmail") and len(labels) > 2:
        return ("Email", EMAIL)
    if any(word in host for word in _FEDIVERSE):
        return ("Mastodon", SOCIAL)
    return KNOWN_SOURCES.get(_stem(host))


def _is_internal(host: str, site_hosts: tuple[str, ...]) -> bool:
    return any(host == h or host.endswith("." + h) for h in site_hosts)


def classify(
    referrer: str | None, params: dict[str, str], click_ids: dict[str, str], site_hosts: tuple[str, ...]
) -> Referral:
    campaign_source = params.get("utm_source") or params.get("ref") or params.get("source") or params.get("via")
    if any(k in click_ids for k in _PAID_SEARCH_IDS):
        paid = "Paid Search"
    elif any(k in click_ids for k in _PAID_SOCIAL_IDS):
        paid = "Paid Social"
    else:
        paid = None
    return _classify(referrer, campaign_source, params.get("utm_medium", "").lower(), paid, site_hosts)


@functools.lru_cache(maxsize=16_384)
def _classify(
    referrer: str | None, campaign_source: str | None, medium: str, paid: str | None, site_hosts: tuple[str, ...]
) -> Referral:
    """Cached: a site's visits come from a few referrers and campaigns."""
    host = referrer_host(referrer)
    if host and _is_internal(host, site_hosts):
        host = None
    known = known_source(host) if host else None
    if known is None and campaign_source:
        known = KNOWN_SOURCES.get(campaign_source.strip().lower().split(".")[0])
    source = known[0] if known else (host or campaign_source)
    return Referral(host, source, _channel(medium, paid, known, host, campaign_source))


def _channel(
    medium: str, paid: str | None, known: tuple[str, str] | None, host: str | None, campaign_source: str | None
) -> str:
    if medium in ("email", "e-mail", "e_mail", "newsletter"):
        return "Email"
    if medium in ("cpc", "ppc", "paid", "paidsearch", "paid_search", "paid-search", "sem"):
        return "Paid Social" if known and known[1] == SOCIAL else "Paid Search"
    if medium in ("paid_social", "paidsocial", "paid-social", "social_paid"):
        return "Paid Social"
    if medium in ("display", "banner", "cpm", "expandable", "interstitial"):
        return "Display"
    if medium in ("affiliate", "affiliates", "partner"):
        return "Affiliates"
    if medium in ("social", "social-network", "social-media", "sm", "social network", "social media"):
        return "Organic Social"
    if paid:  # an ad click id
        return paid
    if known:
        return _ORGANIC[known[1]]
    if host or campaign_source:
        return "Referral"
    return "Direct"
