"""Network owners: hosting providers, mobile carriers, ISPs, and businesses' own networks.

Hosting networks (autonomous systems that rent out servers, where people rarely browse from):
a request from one is treated as automated (Fingerprint's bot verdict `bad`, type
`hostingNetwork`) and reported as a data centre in `ipInfo`. The list holds the large cloud and
hosting providers by AS number, written down from their public AS registrations; an owner adds
others with `FOOTFALL_HOSTING_ASNS`.

`kind_of_network` sorts owners into hosting / mobile / isp / business by that list and then by
words in the owner's registered name (a stated rule, table-tested). "business" needs a positive
sign of an organisation running its own network (a university, a government body, a bank, a
company's DMZ or own AS...); an owner that matches nothing is unknown (None), because most access
providers have plain names ("Ziggo B.V.", "Free SAS") and calling them businesses would invent
companies. Only business networks name a company for anonymous visits (docs/people.md).
"""

from __future__ import annotations

import re
from typing import Literal

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


NetworkKind = Literal["hosting", "mobile", "isp", "business"]
BUSINESS = re.compile(
    r"universit|college|institute|\bschool|academy|government|ministry|department|\bdod\b|council|hospital|"
    r"clinic|\bbank|insurance|pharma|\bdmz\b|-dmz|autonomous system|\bcompany\b|corporate network|enterprise network",
    re.I,
)
# Words in owners' registered names, checked in this order.
NAME_RULES: tuple[tuple[NetworkKind, re.Pattern[str]], ...] = (
    (
        "hosting",
        re.compile(
            r"hosting|cloud|data ?cent(er|re)|\bservers?\b|\bvps\b|colo(cation)?\b|akamai|fastly|"
            r"\bcdn\b|cloudflare|digitalocean|linode|hetzner|\bovh|leaseweb|amazon|google",
            re.I,
        ),
    ),
    (
        "mobile",
        re.compile(
            r"mobile|wireless|cellular|\bmobil|t-mobile|vodafone|telcel|airtel|\bjio\b|"
            r"\bee limited|personal communications|telekomunikasi selular|\bmts\b|tele2|three",
            re.I,
        ),
    ),
    (
        "isp",
        re.compile(
            r"telecom|telekom|telecommunication|broadband|\bcable|communications|\binternet\b|\bisp\b|"
            r"telefonica|comcast|charter|verizon|at&t|\borange\b|telstra|chinanet|unicom|china169|"
            r"softbank|korea telecom|cogent|level ?3|lumen|backbone|transit|fib(er|re)|\bdsl\b|"
            r"\btelco|\bnet(works?)? (s\.?a|gmbh|ltd|inc|llc|bv|ab)\b|kabel|virgin media|sky uk|\bbt\b|"
            r"tietong|telenor|telia|swisscom|proximus|\bkpn\b|bell canada|rogers|shaw|spectrum",
            re.I,
        ),
    ),
)


def kind_of_network(asn: int | None, organization: str | None, hosting: HostingNetworks) -> NetworkKind | None:
    """What kind of network an owner runs; None when its name says nothing certain."""
    if hosting.name(asn):
        return "hosting"
    if not organization:
        return None
    for kind, rule in NAME_RULES:
        if rule.search(organization):
            return kind
    return "business" if BUSINESS.search(organization) else None
