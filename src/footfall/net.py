"""The client's IP: the socket peer, or a forwarded header when the peer is a trusted proxy."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, proxies: Sequence[Network]) -> bool:
    return ip is not None and any(ip in net for net in proxies)


def client_ip(peer: str | None, headers: Mapping[str, str], proxies: Sequence[Network]) -> str | None:
    """`x-datafast-real-ip` or the right-most untrusted X-Forwarded-For hop, only behind a trusted proxy."""
    return _client_ip(
        peer,
        headers.get("x-datafast-real-ip") or headers.get("x-real-ip"),
        headers.get("x-forwarded-for"),
        tuple(proxies),
    )


@functools.lru_cache(maxsize=65536)
def _client_ip(peer: str | None, real: str | None, forwarded: str | None, proxies: tuple[Network, ...]) -> str | None:
    peer_ip = _ip(peer) if peer else None
    if not _trusted(peer_ip, proxies):
        return str(peer_ip) if peer_ip else None
    if real and (ip := _ip(real)):
        return str(ip)
    hops = [h for h in (forwarded or "").split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break
        if not _trusted(ip, proxies):
            return str(ip)
    return str(peer_ip)
