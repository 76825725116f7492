"""The client's IP: the socket peer, or a forwarded header when the peer is a trusted proxy.

One rule (docs/deploy.md, "Client addresses"): behind a trusted proxy, the right-most address of
`X-Forwarded-For` that is not itself a trusted proxy (what the last proxy of yours saw; anything to
its left the client could have written). `X-Real-IP` and DataFast's `x-datafast-real-ip` are read
only when `FOOTFALL_PROXY_SETS_REAL_IP` says the proxy sets them (a client can send them too, and a
proxy that does not overwrite them passes them on). From any other peer no header counts.
"""

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


def client_ip(
    peer: str | None, headers: Mapping[str, str], proxies: Sequence[Network], real_ip_header: bool = False
) -> str | None:
    """The right-most untrusted X-Forwarded-For hop (or, when the proxy sets it, `x-real-ip` /
    `x-datafast-real-ip`), only behind a trusted proxy; else the peer."""
    real = (headers.get("x-datafast-real-ip") or headers.get("x-real-ip")) if real_ip_header else None
    return _client_ip(peer, real, headers.get("x-forwarded-for"), tuple(proxies))


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
