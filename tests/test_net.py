"""The client IP, with and without trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest

from footfall.net import client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))


@pytest.mark.parametrize(
    ("peer", "headers", "proxies", "expected"),
    [
        ("203.0.113.5", {"x-forwarded-for": "1.2.3.4"}, PROXIES, "203.0.113.5"),  # untrusted peer: header ignored
        ("127.0.0.1", {"x-forwarded-for": "1.2.3.4"}, PROXIES, "1.2.3.4"),
        ("127.0.0.1", {"x-forwarded-for": "6.6.6.6, 1.2.3.4, 10.1.1.1"}, PROXIES, "1.2.3.4"),  # right-most untrusted
        # [T7] 8: a client-sent X-Real-IP / x-datafast-real-ip no longer wins over X-Forwarded-For
        ("127.0.0.1", {"x-datafast-real-ip": "2001:db8::1", "x-forwarded-for": "1.2.3.4"}, PROXIES, "1.2.3.4"),
        ("127.0.0.1", {"x-real-ip": "9.9.9.9", "x-forwarded-for": "1.2.3.4"}, PROXIES, "1.2.3.4"),
        ("127.0.0.1", {"x-real-ip": "9.9.9.9"}, PROXIES, "127.0.0.1"),
        ("127.0.0.1", {"x-forwarded-for": "garbage"}, PROXIES, "127.0.0.1"),
        ("127.0.0.1", {}, PROXIES, "127.0.0.1"),
        ("127.0.0.1", {"x-forwarded-for": "1.2.3.4"}, (), "127.0.0.1"),
        (None, {}, PROXIES, None),
    ],
)
def test_client_ip(peer, headers, proxies, expected) -> None:
    assert client_ip(peer, headers, proxies) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-real-ip": "9.9.9.9", "x-forwarded-for": "1.2.3.4"}, "9.9.9.9"),
        ({"x-datafast-real-ip": "2001:db8::1", "x-forwarded-for": "1.2.3.4"}, "2001:db8::1"),
        ({"x-forwarded-for": "1.2.3.4"}, "1.2.3.4"),
    ],
)
def test_real_ip_headers_count_only_when_the_proxy_sets_them(headers, expected) -> None:
    assert client_ip("127.0.0.1", headers, PROXIES, real_ip_header=True) == expected
    assert client_ip("203.0.113.5", headers, PROXIES, real_ip_header=True) == "203.0.113.5"  # not from a client
