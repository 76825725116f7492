"""Referrer and campaign -> source and channel."""

from __future__ import annotations

import pytest

from footfall.enrich.campaign import parse_url
from footfall.enrich.referrer import classify

SITE = ("example.com",)


@pytest.mark.parametrize(
    ("referrer", "url", "source", "channel"),
    [
        (None, "https://example.com/", None, "Direct"),
        ("https://example.com/other", "https://example.com/", None, "Direct"),  # internal navigation
        ("https://www.google.com/", "https://example.com/", "Google", "Organic Search"),
        ("https://www.google.co.uk/search", "https://example.com/", "Google", "Organic Search"),
        ("https://www.google.com/", "https://example.com/?gclid=x", "Google", "Paid Search"),
        ("https://t.co/abc", "https://example.com/", "X", "Organic Social"),
        ("https://news.ycombinator.com/item?id=1", "https://example.com/", "Hacker News", "Organic Social"),
        ("https://m.facebook.com/", "https://example.com/?fbclid=abc", "Facebook", "Organic Social"),
        ("https://www.youtube.com/", "https://example.com/", "YouTube", "Organic Video"),
        ("https://blog.somebody.dev/post", "https://example.com/", "blog.somebody.dev", "Referral"),
        (None, "https://example.com/?utm_source=newsletter&utm_medium=email", "newsletter", "Email"),
        (None, "https://example.com/?utm_source=facebook&utm_medium=cpc", "Facebook", "Paid Social"),
        (None, "https://example.com/?utm_source=google&utm_medium=cpc", "Google", "Paid Search"),
        (None, "https://example.com/?ref=producthunt", "Product Hunt", "Organic Social"),
        (None, "https://example.com/?via=partner42", "partner42", "Referral"),
        (None, "https://example.com/?ttclid=1", None, "Paid Social"),
        (None, "https://example.com/?utm_source=x&utm_medium=display", "X", "Display"),
        # webmail is email, not a search engine's results
        ("https://mail.google.com/", "https://example.com/", "Gmail", "Email"),
        ("https://outlook.live.com/mail/0/inbox", "https://example.com/", "Outlook", "Email"),
        ("https://mail.yahoo.com/d/folders/1", "https://example.com/", "Yahoo! Mail", "Email"),
        ("https://webmail.acme-corp.com/", "https://example.com/", "Email", "Email"),
        # Telegram's t.me is not X's t.co
        ("https://t.me/somechannel/12", "https://example.com/", "Telegram", "Organic Social"),
        # AI assistants
        ("https://chatgpt.com/", "https://example.com/", "ChatGPT", "AI assistants"),
        ("https://chat.openai.com/", "https://example.com/", "ChatGPT", "AI assistants"),
        ("https://claude.ai/chat/1", "https://example.com/", "Claude", "AI assistants"),
        ("https://www.perplexity.ai/search?q=x", "https://example.com/", "Perplexity", "AI assistants"),
        ("https://copilot.microsoft.com/", "https://example.com/", "Copilot", "AI assistants"),
        ("https://gemini.google.com/app", "https://example.com/", "Gemini", "AI assistants"),
        ("https://chat.deepseek.com/", "https://example.com/", "DeepSeek", "AI assistants"),
        (None, "https://example.com/?utm_source=chatgpt.com", "ChatGPT", "AI assistants"),
        # search and social networks beyond the usual few
        ("https://www.sogou.com/web?query=x", "https://example.com/", "Sogou", "Organic Search"),
        ("https://m.vk.com/wall-1_2", "https://example.com/", "VK", "Organic Social"),
        ("https://weibo.com/u/1", "https://example.com/", "Weibo", "Organic Social"),
        ("https://search.naver.com/search.naver?query=x", "https://example.com/", "Naver", "Organic Search"),
        ("https://mastodon.social/@someone/1", "https://example.com/", "Mastodon", "Organic Social"),
        ("https://fosstodon.org/@someone/1", "https://example.com/", "Mastodon", "Organic Social"),
        ("https://mastodon.example-town.org/@x", "https://example.com/", "Mastodon", "Organic Social"),
    ],
)
def test_classify(referrer, url, source, channel) -> None:
    page = parse_url(url)
    assert page is not None
    result = classify(referrer, page.params, page.click_ids, SITE)
    assert (result.source, result.channel) == (source, channel)


def test_parse_url_reads_params_click_ids_and_cross_domain_id() -> None:
    page = parse_url("https://WWW.Example.com/a/b?utm_source=s&utm_term=t&gclid=g&msclkid=m&other=1&_df_vid=v")
    assert page is not None
    assert (page.hostname, page.path) == ("example.com", "/a/b")
    assert page.params == {"utm_source": "s", "utm_term": "t"}
    assert page.click_ids == {"gclid": "g", "msclkid": "m"} and page.cross_domain_visitor == "v"
    assert parse_url("javascript:alert(1)") is None and parse_url("/relative") is None
