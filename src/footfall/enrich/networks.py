"""Hosting networks: autonomous systems that rent out servers, where people rarely browse from.

A request from one is treated as automated (Fingerprint's bot verdict `bad`, type
`hostingNetwork`) and reported as a data centre in `ipInfo`. The list holds the large cloud and
hosting providers by AS number, written down from their public AS registrations; an owner adds
others with `FOOTFALL_HOSTING_ASNS`. A network not listed is not called anything (never guessed
from its name).
"""

from __future__ import annotations

HOSTING_ASNS: dict[int, str] = {
    14618: "Amazon Web Services",
    16509: "Amazon Web Services",
    8075: "Microsoft Azure",
    15169: "Google Cloud",
    396982: "Google Cloud",
    14061: "DigitalOcean",
    16276: "OVHcloud",
    24940: "Hetzner",
    63949: "Akamai Connected Cloud (Linode)",
    20473: "Vultr",
    31898: "Oracle Cloud",
    45102: "Alibaba Cloud",
    132203: "Tencent Cloud",
    12876: "Scaleway",
    51167: "Contabo",
    60781: "Leaseweb",
    16265: "Leaseweb",
    36351: "IBM Cloud (SoftLayer)",
    9009: "M247",
    212238: "Datacamp (CDN77)",
}


class HostingNetworks:
    """Which AS numbers are hosting providers: the built-in list plus the owner's additions."""

    def __init__(self, extra: tuple[int, ...] = ()) -> None:
        self.names = {**HOSTING_ASNS, **{asn: f"AS{asn}" for asn in extra if asn not in HOSTING_ASNS}}

    def name(self, asn: int | None) -> str | None:
        """The provider's name when `asn` is a hosting network, else None."""
        return None if asn is None else self.names.get(asn)

    def numbers(self) -> list[int]:
        return sorted(self.names)
