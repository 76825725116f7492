"""Outbound requests go to the public internet only (webhooks, Slack, the enrichment provider).

A workflow's URL is typed by whoever holds a key, so without a rule footfall would fetch
anything its own network reaches: the cloud's metadata service, a database's admin port, a
colleague's laptop. The rule (docs/reliability.md, "Outbound requests"):

- At creation, a URL is refused with a clear message when it carries credentials, names a host
  that is local by definition (`localhost`, `*.internal`, `*.local`, a single label...), or is
  an address (in any spelling the resolver accepts: `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`)
  that is not a public unicast address; a name that resolves to such an address is refused too.
- At send time the connection itself is checked: every address the name resolves to must be
  public, and the connection goes to the address that was checked (no second look-up for DNS
  rebinding to change). Redirects are not followed; a reply's body is never kept.
- `FOOTFALL_OUTBOUND_ALLOW` lets an operator name networks that may be reached anyway
  (`10.0.0.0/8,fd00::/8`, or `*` for everything), for a receiver inside their own network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp", ".private")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
REFUSED = "outbound request refused"


class Refused(ValueError):
    """A target footfall will not send to; the message says why."""


def _embedded(ip: IP) -> IP:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def literal_address(host: str) -> IP | None:
    """The address a host names in any spelling a resolver accepts (`0x7f.1`, `2130706433`,
    `127.1`, `[::1]`), or None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(bare))  # the legacy spellings inet_aton reads
    except OSError:
        return None


@dataclass(frozen=True)
class Outbound:
    """The rule above; `allow` is FOOTFALL_OUTBOUND_ALLOW."""

    allow: tuple[Network, ...] = ()
    allow_all: bool = False

    @classmethod
    def from_setting(cls, networks: Iterable[str]) -> Outbound:
        items = [n.strip() for n in networks if n.strip()]
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in items if n != "*"), "*" in items)

    def check_address(self, ip: IP, host: str) -> None:
        if self.allow_all or any(ip in net for net in self.allow):
            return
        inner = _embedded(ip)  # a mapped or translated IPv4 address is judged as itself
        if not inner.is_global or inner.is_multicast:
            named = host if host == str(ip) else f"{host} is {ip},"
            raise Refused(f"{REFUSED}: {named} not a public address (FOOTFALL_OUTBOUND_ALLOW can permit it)")

    def check_url(self, url: str, resolve: bool = True) -> str:
        """The URL if footfall may send to it; `Refused` with the reason otherwise. A name that
        does not resolve now is accepted here (the send-time check decides)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused("an http(s) URL with a host")
        if parts.username is not None or parts.password is not None:
            raise Refused("a URL without user:password@ (put credentials in a header)")
        host = parts.hostname.rstrip(".").lower()
        ip = literal_address(host)
        if ip is not None:
            self.check_address(ip, host)
            return url
        if not self.allow_all and (host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host):
            raise Refused(f"{REFUSED}: {host} is a local name, not a public host")
        if resolve:
            for found in _resolve(host, parts.port or (443 if parts.scheme == "https" else 80)):
                self.check_address(found, host)
        return url


def _resolve(host: str, port: int) -> list[IP]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the rule allows, to the very address it checked."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, rule: Outbound) -> None:
        self.inner, self.rule = inner, rule

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        ip = literal_address(host)
        if ip is None:
            found = await anyio.to_thread.run_sync(_resolve, host, port)
            if not found:
                raise httpcore.ConnectError(f"cannot resolve {host}")
        addresses = [ip] if ip is not None else found
        try:
            for address in addresses:
                self.rule.check_address(address, host)
        except Refused as exc:
            raise httpcore.ConnectError(str(exc)) from None
        return await self.inner.connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError(f"{REFUSED}: unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _CheckedSyncBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, rule: Outbound) -> None:
        self.inner, self.rule = inner, rule

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        ip = literal_address(host)
        addresses = [ip] if ip is not None else _resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        try:
            for address in addresses:
                self.rule.check_address(address, host)
        except Refused as exc:
            raise httpcore.ConnectError(str(exc)) from None
        return self.inner.connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError(f"{REFUSED}: unix sockets")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def async_client(rule: Outbound, timeout: float, **kw: Any) -> httpx.AsyncClient:
    """An httpx client bound to the rule: no proxies from the environment, no redirects."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # the pool's network backend is the one seam httpcore offers for "which address to connect to"
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=_CheckedBackend(httpcore.AnyIOBackend(), rule),
    )
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False, **kw)


def sync_client(rule: Outbound, timeout: float, **kw: Any) -> httpx.Client:
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=_CheckedSyncBackend(httpcore.SyncBackend(), rule),
    )
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False, **kw)
