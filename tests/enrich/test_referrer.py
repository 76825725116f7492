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
