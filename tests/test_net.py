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
        ("127.0.0.1", {"x-datafast-real-ip": "2001:db8::1", "x-forwarded-for": "1.2.3.4"}, PROXIES, "2001:db8::1"),
        ("127.0.0.1", {"x-forwarded-for": "garbage"}, PROXIES, "127.0.0.1"),
        ("127.0.0.1", {}, PROXIES, "127.0.0.1"),
        ("127.0.0.1", {"x-forwarded-for": "1.2.3.4"}, (), "127.0.0.1"),
        (None, {}, PROXIES, None),
    ],
)
def test_client_ip(peer, headers, proxies, expected) -> None:
    assert client_ip(peer, headers, proxies) == expected
