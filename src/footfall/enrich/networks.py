"""Network owners: hosting providers, mobile carriers, ISPs, and businesses' own networks.

Hosting networks (autonomous systems that rent out servers, where people rarely browse from):
a request from one is treated as automated (Fingerprint's bot verdict `bad`, type
`hostingNetwork`) and reported as a data centre in `ipInfo`. The list holds the large cloud and
hosting providers by AS number, written down from their public AS registrations; an owner adds
others with `FOOTFALL_HOSTING_ASNS`.

`kind_of_network` sorts owners into hosting / mobile / isp / shared / business by that list and
then by words in the owner's registered name (a stated rule, table-tested, and measured on a
labelled sample of 385 owners by bench/networks.py). Any sign that a network carries other
people's traffic wins: telephone, telegraph and telecom operators, access and mobile providers,
hosting, research and education networks that serve many institutions, exchanges. "business" then
needs a positive sign of one organisation running its own network (a university, a school, a
hospital, a bank, an insurer, a government body, a company's DMZ...); a legal form ("Company",
"Inc.", "JSC") is no such sign, since access providers carry them as often as anyone. An owner
that matches nothing is unknown (None): most access providers have plain names ("Ziggo B.V.",
"Free SAS") and calling them businesses would invent companies. Only business networks name a
company for anonymous visits (docs/people.md).
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


NetworkKind = Literal["hosting", "mobile", "isp", "shared", "business"]
# Words in owners' registered names, checked in this order: any sign that a network carries other
# people's traffic (hosting, mobile, access, transit, research and education networks, exchanges,
# security proxies) comes before any sign of one organisation.
NAME_RULES: tuple[tuple[NetworkKind, re.Pattern[str]], ...] = (
    (
        "hosting",
        re.compile(
            r"hosting|cloud|data ?cent(er|re)|\bservers?\b|\bvps\b|colo(cation)?\b|akamai|fastly|"
            r"\bcdn\b|cloudflare|digitalocean|linode|hetzner|\bovh|leaseweb|amazon|google|microsoft|"
            r"facebook|netflix|salesforce|oracle|\bibm\b|zscaler|palo alto|\bproxy|\bvpn\b|\bdns\b",
            re.I,
        ),
    ),
    (
        "mobile",
        re.compile(
            r"mobile|wireless|cellular|\bmobil|t-mobile|vodafone|telcel|airtel|\bjio\b|"
            r"\bee limited|personal communications|telekomunikasi selular|\bmts\b|tele2|three|docomo|"
            r"satellite|\bsat\b|vsat|starlink|spacex",
            re.I,
        ),
    ),
    (
        "shared",  # research and education networks serving many institutions, exchanges, registries
        re.compile(
            r"research (and|&) education|education(al)? network|research network|academic network|\bnren\b|"
            r"renater|\bjisc\b|janet|internet2|cernet|nordunet|geant|canarie|cesnet|singaren|asren|surfnet|"
            r"\bdfn\b|rediris|\bgarr\b|aarnet|reannz|kreonet|twaren|belnet|funet|uninett|sunet|heanet|"
            r"supercomput|\bix\b|exchange point|internet exchange|network information cent(er|re)|registry|"
            r"ministry of education|office of education|board of education|department of education|"
            r"education(al)? (service|district)|banking technology|interbank|clearing",
            re.I,
        ),
    ),
    (
        "isp",
        re.compile(
            r"tele(com|kom|phon|graph|fon|co\b|com\w*|comunica|vision)|\btelco|\btel\b|communica|broadband|"
            r"\bcable|\binternet|\bisp\b|\bnet(works?)?\b|\w{3,}net\b|provedor|provider|online|"
            r"telefonica|comcast|charter|verizon|at&t|\borange\b|telstra|chinanet|unicom|china169|"
            r"softbank|korea telecom|cogent|level ?3|lumen|backbone|transit|fib(er|re|ra)|\bdsl\b|"
            r"kabel|virgin media|sky uk|\bbt\b|tietong|telenor|telia|swisscom|proximus|\bkpn\b|"
            r"bell canada|rogers|shaw|spectrum|\bwi-?fi|wimax|tower|antenna|radio|broadcast|ertebatat|"
            r"hurricane electric|kddi|\bntt\b|optus|sify|rostelecom|megafon|beeline|turk ?telekom",
            re.I,
        ),
    ),
)
# Positive signs of one organisation running its own network. A legal form ("Company", "Inc.",
# "Ltd", "JSC") is no such sign: access providers carry them as often as anyone. Strong signs name
# kinds of organisation that run their own networks; weak ones (an industry, a county) count only
# when nothing in the name speaks of selling IT or network services.
STRONG = re.compile(
    r"universi|\bcollege\b|\bschool|\bacadem|institute of technology|hospital|medical cent(er|re)|\bclinic|"
    r"\bbank|banka\b|\bbanco\b|bancorp|insurance|assurance|pharma|\bministry|ministerio|ministere|"
    r"\bgovernment\b|\bcouncil\b|\bpolice\b|\bcourt|justice|credit union|\bmuseum|\bdmz\b|-dmz|"
    r"corporate network|enterprise network",
    re.I,
)
WEAK = re.compile(
    r"\bcounty\b|\bcity of\b|\bstate of\b|department of|\bdod\b|research institute|health ?care|"
    r"health (system|services)|laborator|petrochemical|petroleum|chemical|mining|\bcoal\b|\bsteel\b|"
    r"automotive|\bmotors?\b|airlines?\b|airport|railway|manufactur|tobacco|brewer",
    re.I,
)
SELLS_IT = re.compile(
    r"information|\binfo\b|software|solution|\bsystems?\b|technolog|digital|computer|\bit\b|\bict\b|"
    r"\bservices?\b|\w+net\b|power",
    re.I,
)


def names_an_organisation(organization: str) -> bool:
    return bool(STRONG.search(organization)) or bool(WEAK.search(organization) and not SELLS_IT.search(organization))


def kind_of_network(asn: int | None, organization: str | None, hosting: HostingNetworks) -> NetworkKind | None:
    """What kind of network an owner runs; None when its name says nothing certain. Only
    "business" names a company for anonymous visits; every other kind, and None, names nobody."""
    if hosting.name(asn):
        return "hosting"
    if not organization:
        return None
    for kind, rule in NAME_RULES:
        if rule.search(organization):
            return kind
    return "business" if names_an_organisation(organization) else None
